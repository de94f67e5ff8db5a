package audit

import (
	"crypto/ed25519"
	"testing"
	"time"
)

// TestSignatureValidWithoutKey: a server without a checkpoint key checks
// stored checkpoints with none; they do not verify, and nothing panics.
func TestSignatureValidWithoutKey(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := Sign(priv, 7, make([]byte, 32), time.Now())
	for _, k := range []ed25519.PublicKey{nil, pub[:16]} {
		if SignatureValid(k, c) {
			t.Errorf("a checkpoint verifies with key %x", k)
		}
	}
	if !SignatureValid(pub, c) {
		t.Error("a checkpoint does not verify with its key")
	}
}
