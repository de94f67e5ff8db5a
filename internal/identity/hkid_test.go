package identity

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// referenceCheckValue is an independent statement of the HKID rule, used to
// generate test numbers: the check digit c (A meaning 10) is the value that
// makes sum(weight × value) + c ≡ 0 (mod 11), weights 9..2 over the
// space-padded 8 positions. The code under test computes it forwards instead.
func referenceCheckValue(letters, digits string) byte {
	padded := letters
	if len(padded) == 1 {
		padded = " " + padded
	}
	sum := 0
	for i, w := 0, 9; i < 8; i, w = i+1, w-1 {
		var v int
		switch c := (padded + digits)[i]; {
		case c == ' ':
			v = 36
		case c >= 'A':
			v = int(c-'A') + 10
		default:
			v = int(c - '0')
		}
		sum += v * w
	}
	for c := 0; c <= 10; c++ {
		if (sum+c)%11 == 0 {
			return "0123456789A"[c]
		}
	}
	panic("unreachable")
}

func randomHKID(r *rand.Rand) (letters, digits string, check byte) {
	n := 1 + r.IntN(2)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('A' + r.IntN(26))
	}
	d := make([]byte, 6)
	for i := range d {
		d[i] = byte('0' + r.IntN(10))
	}
	return string(b), string(d), referenceCheckValue(string(b), string(d))
}

// TestHKIDProperty: every generated HKID with its computed check digit is
// valid, and changing any single digit (check digit included) makes it
// invalid — the weights 2..9 are all non-zero mod the prime 11, so the rule
// catches every single-digit error.
func TestHKIDProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(2016, 2029))
	for range 2000 {
		letters, digits, check := randomHKID(r)
		number := letters + digits + "(" + string(check) + ")"
		d, err := Parse(HKID, number, "")
		if err != nil {
			t.Fatalf("Parse(%q): %v", number, err)
		}
		if d.Number != number {
			t.Fatalf("Parse(%q).Number = %q", number, d.Number)
		}
		for i := range 7 { // the six digits and the check digit
			pos := len(letters) + i
			if i == 6 {
				pos++ // skip "("
			}
			for _, c := range []byte("0123456789A") {
				if c == number[pos] || (c == 'A' && i < 6) {
					continue
				}
				bad := number[:pos] + string(c) + number[pos+1:]
				if _, err := Parse(HKID, bad, ""); !errors.Is(err, ErrCheckDigit) {
					t.Fatalf("Parse(%q) (from %q) error = %v, want ErrCheckDigit", bad, number, err)
				}
			}
		}
	}
}

func TestHKIDCheckDigitMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		letters, digits, want := randomHKID(r)
		if got := hkidCheckDigit(letters + digits); got != want {
			t.Fatalf("hkidCheckDigit(%q) = %c, want %c", letters+digits, got, want)
		}
	}
}
