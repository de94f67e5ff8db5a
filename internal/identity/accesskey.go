package identity

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// accessKeySpace is the number of 8-digit access keys.
const accessKeySpace = 100_000_000

// AccessKey returns a new 8-digit access key, uniformly random over
// 00000000–99999999, from crypto/rand. A citizen receives it at registration
// and gives it at a clinic to identify themself. Store only a hash of it, and
// compare in constant time.
func AccessKey() string {
	// Reject the top of the uint32 range so that every key is equally likely.
	const limit = (1 << 32) / accessKeySpace * accessKeySpace
	var b [4]byte
	for {
		_, _ = rand.Read(b[:]) // never fails since Go 1.24: it crashes the program instead
		if v := binary.BigEndian.Uint32(b[:]); v < limit {
			return fmt.Sprintf("%08d", v%accessKeySpace)
		}
	}
}

// ValidAccessKey reports whether s has the form of an access key: exactly
// 8 ASCII digits. It says nothing about whether the key was issued.
func ValidAccessKey(s string) bool {
	return len(s) == 8 && allIn(s, isDigit)
}
