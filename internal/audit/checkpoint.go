package audit

import (
	"bufio"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ehealthplus/ehealth/internal/store"
)

// checkpointDomain opens every signed checkpoint message, so a signature
// over one can never pass for a signature over anything else.
const checkpointDomain = "ehealth.audit.checkpoint.v1\x00"

// CheckpointMessage is the message a checkpoint's signature covers:
//
//	"ehealth.audit.checkpoint.v1" 0x00
//	seq     8 bytes, big-endian
//	hash    the 32-byte hash of entry seq
//	time    8 bytes, big-endian: microseconds since 1970-01-01T00:00:00Z
//
// The key id is not signed: it only says which key to try.
func CheckpointMessage(seq int64, hash []byte, at time.Time) []byte {
	b := make([]byte, 0, len(checkpointDomain)+8+len(hash)+8)
	b = append(b, checkpointDomain...)
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = append(b, hash...)
	return binary.BigEndian.AppendUint64(b, uint64(at.UnixMicro()))
}

// Sign returns the checkpoint over entry (seq, hash) at time at, signed by key.
func Sign(key ed25519.PrivateKey, seq int64, hash []byte, at time.Time) store.AuditCheckpoint {
	at = at.UTC().Truncate(time.Microsecond)
	return store.AuditCheckpoint{
		Seq: seq, Hash: hash, Time: at,
		KeyID:     KeyID(key.Public().(ed25519.PublicKey)),
		Signature: ed25519.Sign(key, CheckpointMessage(seq, hash, at)),
	}
}

// SignatureValid reports whether c is signed by pub.
func SignatureValid(pub ed25519.PublicKey, c store.AuditCheckpoint) bool {
	return len(pub) == ed25519.PublicKeySize && len(c.Hash) == 32 && len(c.Signature) == ed25519.SignatureSize &&
		ed25519.Verify(pub, CheckpointMessage(c.Seq, c.Hash, c.Time), c.Signature)
}

// exported is one line of a checkpoint export file (JSON lines):
//
//	{"seq":1000,"hash":"<hex>","time":"2025-01-02T03:04:05.123456Z","key":"<key id>","sig":"<base64>"}
type exported struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	Time string `json:"time"`
	Key  string `json:"key"`
	Sig  string `json:"sig"`
}

// MarshalCheckpoint is c as a line of an export file, without the newline.
func MarshalCheckpoint(c store.AuditCheckpoint) []byte {
	line, _ := json.Marshal(exported{Seq: c.Seq, Hash: hex.EncodeToString(c.Hash),
		Time: c.Time.UTC().Format(instant), Key: c.KeyID, Sig: base64.StdEncoding.EncodeToString(c.Signature)})
	return line
}

// AppendCheckpoint appends c as a line to the export file at path
// (creating it) and syncs it.
func AppendCheckpoint(path string, c store.AuditCheckpoint) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("audit: export checkpoint: %w", err)
	}
	_, err = f.Write(append(MarshalCheckpoint(c), '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("audit: export checkpoint %d to %s: %w", c.Seq, path, err)
	}
	return nil
}

// ReadCheckpoints reads an export file's checkpoints in file order. Blank
// lines are skipped; anything else that is not a checkpoint is an error
// naming its line.
func ReadCheckpoints(r io.Reader) ([]store.AuditCheckpoint, error) {
	var list []store.AuditCheckpoint
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		c, err := parseCheckpoint(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("audit: checkpoint line %d: %w", n, err)
		}
		list = append(list, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit: checkpoints: %w", err)
	}
	return list, nil
}

// LoadCheckpoints reads the export file at path.
func LoadCheckpoints(path string) ([]store.AuditCheckpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoints: %w", err)
	}
	defer f.Close()
	return ReadCheckpoints(f)
}

func parseCheckpoint(line []byte) (store.AuditCheckpoint, error) {
	var x exported
	if err := json.Unmarshal(line, &x); err != nil {
		return store.AuditCheckpoint{}, err
	}
	hash, err := hex.DecodeString(x.Hash)
	if err != nil || len(hash) != 32 {
		return store.AuditCheckpoint{}, fmt.Errorf("hash %q: want 64 hex digits", x.Hash)
	}
	at, err := time.Parse(time.RFC3339Nano, x.Time)
	if err != nil {
		return store.AuditCheckpoint{}, fmt.Errorf("time: %w", err)
	}
	sig, err := base64.StdEncoding.DecodeString(x.Sig)
	if err != nil {
		return store.AuditCheckpoint{}, fmt.Errorf("sig: %w", err)
	}
	if x.Seq <= 0 {
		return store.AuditCheckpoint{}, fmt.Errorf("seq %d: want a positive seq", x.Seq)
	}
	return store.AuditCheckpoint{Seq: x.Seq, Hash: hash, Time: at.UTC(), KeyID: x.Key, Signature: sig}, nil
}
