package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServe starts the server on a free port with the database named by
// EHEALTH_DB, checks the operational endpoints and the FHIR base answer,
// and shuts it down gracefully.
func TestServe(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "serve.db")
	t.Setenv("EHEALTH_DB", db)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, &stdout, &stderr) }()

	base := waitForURL(t, &stdout)
	// An operator token from `ehealth admin token`, for the server's
	// default audience.
	var tok bytes.Buffer
	if err := run(ctx, []string{"admin", "token", "--scope", "system/*.cruds", "--ttl", "5m"}, &tok, &tok); err != nil {
		t.Fatalf("admin token: %v: %s", err, tok.String())
	}
	bearer := "Bearer " + strings.TrimSpace(tok.String())
	// /metrics comes last, after requests it must have counted.
	checks := []struct {
		path, auth string
		want       int
	}{{"/healthz", "", 200}, {"/readyz", "", 200}, {"/fhir/metadata", "", 200},
		{"/fhir/Patient/x", "", 401}, {"/fhir/Patient/x", "Bearer not-a-token", 401}, {"/fhir/Patient/x", bearer, 404},
		{"/fhir/.well-known/smart-configuration", "", 200}, {"/.well-known/openid-configuration", "", 200}, {"/.well-known/jwks.json", "", 200},
		{"/metrics", "", 200}}
	for _, c := range checks {
		path, want := c.path, c.want
		req, err := http.NewRequest("GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s (auth %.12q): %d, want %d: %s", path, c.auth, resp.StatusCode, want, body)
		}
		if want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("GET %s: 401 without a Bearer challenge: %q", path, resp.Header.Get("WWW-Authenticate"))
		}
		if path == "/metrics" && !strings.Contains(string(body), "ehealth_http_request_duration_seconds") {
			t.Errorf("/metrics lacks the request histogram")
		}
	}
	if !strings.Contains(stderr.String(), "serve.db") {
		t.Errorf("EHEALTH_DB was not used: %s", stderr.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not shut down")
	}
}

func TestUnknownCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"frobnicate"}, &out, &out); err == nil {
		t.Fatal("unknown command accepted")
	}
	if err := run(context.Background(), []string{"migrate", "--db", "mysql://x"}, &out, &out); err == nil {
		t.Fatal("unknown database scheme accepted")
	}
}

var urlPattern = regexp.MustCompile(`http://[0-9.:]+`)

func waitForURL(t *testing.T, out *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := urlPattern.FindString(out.String()); m != "" {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("server did not start: %s", out.String())
	return ""
}
