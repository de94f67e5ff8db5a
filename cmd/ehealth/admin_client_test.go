package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestAdminClient registers a public app and a system client, lists them,
// disables one, and refuses a system client without its provider.
func TestAdminClient(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Use: "sig"}}})
	jwksFile := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwksFile, set, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, db := range adminDatabases {
		t.Run(db.name, func(t *testing.T) {
			dbURL := db.url(t)
			ehealth := func(args ...string) (string, error) {
				var out, errOut bytes.Buffer
				err := run(context.Background(), append([]string{"admin", "client"}, append(args, "--db", dbURL)...), &out, &errOut)
				return out.String(), err
			}
			if _, err := ehealth("add", "--id", "diary", "--kind", "public", "--name", "Health Diary",
				"--redirect-uri", "https://diary.example/cb", "--origin", "https://diary.example",
				"--scope", "openid fhirUser launch/patient patient/*.rs offline_access"); err != nil {
				t.Fatal(err)
			}
			out, err := ehealth("add", "--id", "clinic-emr", "--kind", "system", "--org", "Organization/clinic-1",
				"--scope", "system/*.cruds user/*.rs", "--jwks", jwksFile)
			if err != nil || !strings.HasPrefix(out, "clinic-emr\tsystem\tOrganization/clinic-1\t") {
				t.Fatalf("add system client: %q %v", out, err)
			}
			if _, err := ehealth("add", "--id", "orphan", "--kind", "system", "--scope", "system/*.rs", "--jwks", jwksFile); err == nil ||
				!strings.Contains(err.Error(), "Organization") {
				t.Errorf("a system client without --org: %v", err)
			}
			if _, err := ehealth("add", "--id", "diary", "--kind", "public", "--redirect-uri", "https://x.example/cb", "--scope", "openid"); err == nil {
				t.Error("a second client with one id")
			}
			if _, err := ehealth("disable", "--id", "diary"); err != nil {
				t.Fatal(err)
			}
			out, err = ehealth("list")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if err != nil || len(lines) != 2 || !strings.HasPrefix(lines[1], "diary\tpublic\tdisabled\t") || !strings.HasPrefix(lines[0], "clinic-emr\t") {
				t.Errorf("list: %q %v", out, err)
			}
			if _, err := ehealth("disable", "--id", "ghost"); err == nil {
				t.Error("disabled an unknown client")
			}
		})
	}
}
