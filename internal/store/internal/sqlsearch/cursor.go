package sqlsearch

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// A cursor names the last row of a page (the first, for a cursor to the
// previous page): its sort key values and its rid.
// Sort keys can be PHI (a normalised family name, a birth date), so the
// cursor is sealed with AES-GCM under a key the store draws at random when
// it opens and keeps only in memory: a client sees opaque bytes, cannot
// forge or alter a cursor, and a cursor dies with the process (a client
// whose server restarted gets a 400 and starts again). The sort signature
// is sealed in too, so a cursor cannot be replayed on a differently sorted
// search.
type cursor struct {
	Sig  string    `json:"s"`
	Keys []*string `json:"k,omitempty"` // nil: the row has no value for that key
	RID  int64     `json:"r"`
	Back bool      `json:"b,omitempty"` // the page before the row, not after it
}

// sealer seals and opens cursors.
type sealer struct{ aead cipher.AEAD }

func newSealer() (sealer, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return sealer{}, fmt.Errorf("search cursor key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealer{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealer{}, err
	}
	return sealer{aead}, nil
}

func (s sealer) seal(c cursor) (string, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, nil)), nil
}

// open reads a cursor sealed by this store for a search sorted as sig.
func (s sealer) open(text, sig string) (cursor, error) {
	bad := func() (cursor, error) {
		return cursor{}, outcome.New(outcome.Invalid, "the paging cursor is not valid here (expired, altered or from another search); start the search again")
	}
	raw, err := base64.RawURLEncoding.DecodeString(text)
	n := s.aead.NonceSize()
	if err != nil || len(raw) < n {
		return bad()
	}
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return bad()
	}
	var c cursor
	if err := json.Unmarshal(plain, &c); err != nil || c.Sig != sig {
		return bad()
	}
	return c, nil
}

// keyText turns a scanned sort key value into its cursor form.
func keyText(v any) *string {
	var s string
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		s = v
	case []byte:
		s = string(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	case float64:
		s = strconv.FormatFloat(v, 'g', -1, 64)
	default:
		s = fmt.Sprint(v)
	}
	return &s
}
