package resource

import (
	"context"
	"testing"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// patients is a reader of Patient bodies by id.
type patients map[string]string

func (p patients) Read(_ context.Context, typ, id string) (store.Version, error) {
	body, ok := p[id]
	if typ != "Patient" || !ok {
		return store.Version{}, outcome.New(outcome.NotFound, "%s/%s is not known", typ, id)
	}
	return store.Version{Type: typ, ID: id, VersionID: 1, Body: []byte(body)}, nil
}

func (p patients) ReadVersion(ctx context.Context, typ, id string, _ int64) (store.Version, error) {
	return p.Read(ctx, typ, id)
}

// TestResolveKeyOfSubCompartment: a restricted or private key follows its
// patient's links and keeps its kind.
func TestResolveKeyOfSubCompartment(t *testing.T) {
	r := patients{
		"m1": `{"resourceType":"Patient","id":"m1"}`,
		"l1": `{"resourceType":"Patient","id":"l1","link":[{"other":{"reference":"Patient/m1"},"type":"refer"}]}`,
	}
	for key, want := range map[string]string{
		"l1": "m1", store.RestrictedKey("l1"): store.RestrictedKey("m1"), store.PrivateKey("l1"): store.PrivateKey("m1"),
		store.RestrictedKey("m1"): store.RestrictedKey("m1"), store.RestrictedKey("unknown"): store.RestrictedKey("unknown"),
		store.PrivateKey(""): store.PrivateKey(""),
	} {
		if got, err := resolveKey(t.Context(), r, key); err != nil || got != want {
			t.Errorf("resolveKey(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
}
