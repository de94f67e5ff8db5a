package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ehealthplus/ehealth/internal/hl7v2"
)

// labORU is an ORU^R01 from a lab about the holder of HKID A123456(3): one
// glucose result with its order number and value.
func labORU(control, order, value string) string {
	return strings.Join([]string{
		"MSH|^~\\&|LIS|KLAB|EHR|EHEALTH|20261101103000+0800||ORU^R01|" + control + "|P|2.5.1",
		"PID|1||A123456(3)^^^HKID||CHAN^TAI MAN||19700101|M",
		"OBR|1||" + order + "^KLAB|2345-7^Glucose^LN|||20261101090000|||||||||||||||20261101100000|||F",
		"OBX|1|NM|2345-7^Glucose^LN||" + value + "|mmol/L|3.9-6.1|N|||F",
	}, "\r") + "\r"
}

var mllpPattern = regexp.MustCompile(`mllp://([0-9.:]+)`)

// TestServeMLLP starts serve with its MLLP listener bound to a lab's
// system client: a framed ORU^R01 is acknowledged AA and its result read
// back through the FHIR API, audited as the client; a malformed message on
// the same connection gets AE/AR and stores nothing; the connection
// carries several messages; once the client is disabled its messages are
// refused AR. serve refuses to start for an unknown client, a client that
// is not a system client, or --mllp-addr without a client.
func TestServeMLLP(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "lab.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ehealth := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, append(args, "--db", db), &out, &out); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out.String())
		}
		return strings.TrimSpace(out.String())
	}
	lab := ehealth("admin", "provider", "add", "--name", "Kowloon Lab", "--kind", "lab")
	ehealth("admin", "client", "add", "--id", "klab-lis", "--kind", "system", "--org", lab, "--jwks", jwksFile(t, dir),
		"--scope", "system/Patient.crus system/DiagnosticReport.crus system/Observation.crus")
	ehealth("admin", "client", "add", "--id", "diary", "--kind", "public", "--redirect-uri", "https://diary.example/cb", "--scope", "openid patient/*.rs")

	for _, bad := range [][]string{
		{"--mllp-addr", "127.0.0.1:0", "--mllp-client", "ghost"},
		{"--mllp-addr", "127.0.0.1:0", "--mllp-client", "diary"},
		{"--mllp-addr", "127.0.0.1:0"},
		{"--mllp-client", "klab-lis"},
	} {
		var out bytes.Buffer
		err := run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, bad...), &out, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--mllp-") {
			t.Errorf("serve %v: %v", bad, err)
		}
	}

	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--mllp-addr", "127.0.0.1:0", "--mllp-client", "klab-lis"}, &stdout, &stderr)
	}()
	base := waitForURL(t, &stdout)
	m := mllpPattern.FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no MLLP address in %q", stdout.String())
	}
	bearer := "Bearer " + ehealth("admin", "token", "--scope", "system/*.cruds", "--ttl", "5m")
	api := func(method, path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", bearer)
		req.Header.Set("Content-Type", "application/fhir+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v %v", method, path, resp.StatusCode, out, err)
		}
		return out
	}
	api("POST", "/fhir/Patient/$register", `{"resourceType":"Parameters","parameter":[{"name":"patient","resource":{"resourceType":"Patient",
 "identifier":[{"system":"http://www.immd.gov.hk/hkid","value":"A123456(3)"}],"name":[{"family":"Chan","given":["Tai Man"]}],"birthDate":"1970-01-01","gender":"male","telecom":[{"system":"phone","value":"91234567"}]}}]}`)
	results := func() []any {
		t.Helper()
		b := api("GET", "/fhir/Observation?code=http://loinc.org|2345-7&_sort=_lastUpdated", "")
		entries, _ := b["entry"].([]any)
		return entries
	}

	conn, err := net.Dial("tcp", m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := hl7v2.NewReader(conn, 0)
	send := func(msg string) string {
		t.Helper()
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		if err := hl7v2.WriteMessage(conn, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		ack, err := r.ReadMessage()
		if err != nil {
			t.Fatalf("reading the ACK: %v", err)
		}
		return string(ack)
	}

	if ack := send(labORU("M1", "F1001", "5.4")); !strings.Contains(ack, "MSA|AA|M1") {
		t.Fatalf("a result over MLLP: %q", ack)
	}
	got := results()
	if len(got) != 1 {
		t.Fatalf("after one message the FHIR API has %d results", len(got))
	}
	obs := got[0].(map[string]any)["resource"].(map[string]any)
	if v := obs["valueQuantity"].(map[string]any)["value"]; v != 5.4 {
		t.Errorf("the stored value is %v", v)
	}
	if ack := send(labORU("M2", "F1002", "five")); !strings.Contains(ack, "MSA|AE|M2") || !strings.Contains(ack, "ERR||OBX^1^5^1|102") {
		t.Errorf("a malformed message: %q", ack)
	}
	if ack := send("MSH|^~\\&|LIS|KLAB|EHR|EHEALTH|20261101103000||ADT^A01|M3|P|2.5.1\r"); !strings.Contains(ack, "MSA|AR|M3") {
		t.Errorf("an ADT: %q", ack)
	}
	if n := len(results()); n != 1 {
		t.Errorf("refused messages stored results: %d", n)
	}
	if ack := send(labORU("M4", "F1003", "6.2")); !strings.Contains(ack, "MSA|AA|M4") {
		t.Fatalf("a third message on the same connection: %q", ack)
	}
	if n := len(results()); n != 2 {
		t.Errorf("after the third message: %d results", n)
	}
	// The deposits are audited as the lab's client and provider, from the
	// MLLP peer's address.
	audited := 0
	entries, _ := api("GET", "/fhir/AuditEvent?_count=100", "")["entry"].([]any)
	for _, e := range entries {
		raw, _ := json.Marshal(e.(map[string]any)["resource"])
		if strings.Contains(string(raw), "klab-lis") && strings.Contains(string(raw), lab) && strings.Contains(string(raw), `"address":"127.0.0.1"`) {
			audited++
		}
	}
	if audited < 4 { // two deposits, each a Patient (the first), a report and a result
		t.Errorf("%d audit entries name the client klab-lis of %s and its address", audited, lab)
	}

	ehealth("admin", "client", "disable", "--id", "klab-lis")
	if ack := send(labORU("M5", "F1004", "7.0")); !strings.Contains(ack, "MSA|AR|M5") || !strings.Contains(ack, "may not deposit") {
		t.Errorf("a message after the client was disabled: %q", ack)
	}
	if n := len(results()); n != 2 {
		t.Errorf("a disabled client's message was stored: %d results", n)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not shut down")
	}
}

// jwksFile writes a public key set for a system client and returns its path.
func jwksFile(t *testing.T, dir string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Use: "sig"}}})
	name := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(name, set, 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestServeMLLPTLS: with a certificate the listener speaks TLS; a
// certificate without its key is refused at start.
func TestServeMLLPTLS(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "lab.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	admin := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, append(args, "--db", db), &out, &out); err != nil {
			t.Fatalf("%v: %v %s", args, err, out.String())
		}
		return strings.TrimSpace(out.String())
	}
	lab := admin("admin", "provider", "add", "--name", "Kowloon Lab", "--kind", "lab")
	admin("admin", "client", "add", "--id", "klab-lis", "--kind", "system", "--org", lab, "--jwks", jwksFile(t, dir), "--scope", "system/Observation.crus")
	certFile, keyFile := selfSigned(t, dir)
	serve := []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--mllp-addr", "127.0.0.1:0", "--mllp-client", "klab-lis", "--mllp-tls-cert", certFile}
	if err := run(ctx, serve, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "--mllp-tls-key") {
		t.Errorf("a certificate without its key: %v", err)
	}
	var stdout syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, append(serve, "--mllp-tls-key", keyFile), &stdout, io.Discard) }()
	waitForURL(t, &stdout)
	m := regexp.MustCompile(`mllps://([0-9.:]+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("no mllps address in %q", stdout.String())
	}
	conn, err := tls.Dial("tcp", m[1], &tls.Config{InsecureSkipVerify: true}) // the test's own self-signed certificate
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if err := hl7v2.WriteMessage(conn, []byte("MSH|^~\\&|LIS|KLAB|EHR|EHEALTH|20261101103000||ADT^A01|T1|P|2.5.1\r")); err != nil {
		t.Fatal(err)
	}
	ack, err := hl7v2.NewReader(conn, 0).ReadMessage()
	if err != nil || !strings.Contains(string(ack), "MSA|AR|T1") {
		t.Errorf("over TLS: %q %v", ack, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mllp test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
