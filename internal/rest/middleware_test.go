package rest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPanicBecomesOperationOutcome checks a panic in a handler reaches the
// client as a 500 OperationOutcome quoting the request id, with no stack,
// and is logged with that id.
func TestPanicBecomesOperationOutcome(t *testing.T) {
	var logs bytes.Buffer
	a := New(nil, Config{}, slog.New(slog.NewJSONHandler(&logs, nil)))
	h := a.middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("database exploded: password=secret")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/fhir/Patient/1", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	id := rec.Header().Get("X-Request-Id")
	var oo map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &oo); err != nil || oo["resourceType"] != "OperationOutcome" {
		t.Fatalf("body is not an OperationOutcome: %s", rec.Body)
	}
	body := rec.Body.String()
	if strings.Contains(body, "secret") || strings.Contains(body, "goroutine") {
		t.Errorf("the client saw internals: %s", body)
	}
	if id == "" || !strings.Contains(body, id) {
		t.Errorf("the outcome does not quote the request id %q: %s", id, body)
	}
	if !strings.Contains(logs.String(), id) || !strings.Contains(logs.String(), "database exploded") {
		t.Errorf("the panic was not logged with the request id: %s", logs.String())
	}
}
