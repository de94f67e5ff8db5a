package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/store"
)

// TestChainHashBytes pins the hash chain's definition (doc.go,
// store.AuditCanonical): recomputed here from the documented layout, not
// from the store's code, so a change to either breaks the test.
func TestChainHashBytes(t *testing.T) {
	prev := bytes.Repeat([]byte{0xab}, 32)
	e := store.AuditEntry{Seq: 258, Time: time.UnixMicro(1_700_000_000_123_456), Patients: []string{"p1", "漢"}, Body: []byte(`{"a":1}`)}
	var want []byte
	want = append(want, prev...)
	want = append(want, "ehealth.audit.entry.v1\x00"...)
	want = append(want, 0, 0, 0, 0, 0, 0, 1, 2) // seq 258
	want = binary.BigEndian.AppendUint64(want, 1_700_000_000_123_456)
	want = append(want, 0, 0, 0, 2, 0, 0, 0, 2, 'p', '1', 0, 0, 0, 3)
	want = append(want, "漢"...)
	want = append(want, 0, 0, 0, 0, 0, 0, 0, 7)
	want = append(want, `{"a":1}`...)
	sum := sha256.Sum256(want)
	if got := store.AuditHash(prev, e); !bytes.Equal(got, sum[:]) {
		t.Errorf("AuditHash = %x, want %x", got, sum)
	}
	// Genesis: the first entry follows 32 zero bytes.
	if !bytes.Equal(store.AuditGenesis, make([]byte, 32)) {
		t.Errorf("genesis %x", store.AuditGenesis)
	}
}

func TestKeyFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.key")
	pub, err := GenerateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v (%v), want 0600", info.Mode().Perm(), err)
	}
	priv, err := LoadPrivateKey(path)
	if err != nil || !bytes.Equal(priv.Public().(ed25519.PublicKey), pub) {
		t.Fatalf("private key: %v", err)
	}
	for _, p := range []string{path + ".pub", path} {
		got, err := LoadPublicKey(p)
		if err != nil || !bytes.Equal(got, pub) {
			t.Errorf("public key from %s: %v", filepath.Base(p), err)
		}
	}
	if _, err := GenerateKey(path); err == nil {
		t.Error("GenerateKey overwrote an existing key")
	}
	if again, _ := LoadPrivateKey(path); !bytes.Equal(again, priv) {
		t.Error("the refused GenerateKey changed the key file")
	}
	if _, err := LoadPrivateKey(path + ".pub"); err == nil {
		t.Error("a public key loaded as the private key")
	}
	if len(KeyID(pub)) != 16 {
		t.Errorf("key id %q", KeyID(pub))
	}
}

func TestCheckpointSignature(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	hash := bytes.Repeat([]byte{7}, 32)
	c := Sign(priv, 42, hash, at)
	if !SignatureValid(pub, c) {
		t.Fatal("a fresh checkpoint does not verify")
	}
	if c.KeyID != KeyID(pub) || !c.Time.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("checkpoint %+v", c)
	}
	tampered := []func(c *store.AuditCheckpoint){
		func(c *store.AuditCheckpoint) { c.Seq++ },
		func(c *store.AuditCheckpoint) { c.Hash = bytes.Repeat([]byte{8}, 32) },
		func(c *store.AuditCheckpoint) { c.Time = c.Time.Add(time.Microsecond) },
		func(c *store.AuditCheckpoint) { c.Signature = c.Signature[:10] },
	}
	for i, f := range tampered {
		x := c
		f(&x)
		if SignatureValid(pub, x) {
			t.Errorf("tampered checkpoint %d verifies", i)
		}
	}
	if SignatureValid(otherPub, c) {
		t.Error("verifies with another key")
	}
}

func TestCheckpointExportFile(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	path := filepath.Join(t.TempDir(), "checkpoints.jsonl")
	want := []store.AuditCheckpoint{Sign(priv, 10, bytes.Repeat([]byte{1}, 32), at), Sign(priv, 20, bytes.Repeat([]byte{2}, 32), at.Add(time.Minute))}
	for _, c := range want {
		if err := AppendCheckpoint(path, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := LoadCheckpoints(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d checkpoints read back, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || !bytes.Equal(g.Hash, w.Hash) || !g.Time.Equal(w.Time) || g.KeyID != w.KeyID || !bytes.Equal(g.Signature, w.Signature) {
			t.Errorf("line %d: %+v, want %+v", i+1, g, w)
		}
	}
	_, err = ReadCheckpoints(strings.NewReader(string(MarshalCheckpoint(want[0])) + "\n\n{\"seq\":3,\"hash\":\"zz\"}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("a bad line: %v, want an error naming line 3", err)
	}
}
