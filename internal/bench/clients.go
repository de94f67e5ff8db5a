package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The operations of the platform workload, in the order each client
// cycles through them.
const (
	OpDeposit       = "deposit (transaction Bundle, 5 resources)"
	OpRead          = "read by id"
	OpSearch        = "Observation?patient&code&_sort=-date&_count=10"
	OpCount         = "Condition?code&_summary=count"
	OpEverything    = "Patient/{id}/$everything"
	OpConsentShared = "professional read, shared (200)"
	OpConsentHidden = "professional read, not shared (404)"
)

// MixOps is the fixed workload: every client cycles through these.
var MixOps = []string{OpDeposit, OpRead, OpSearch, OpCount, OpEverything, OpConsentShared, OpConsentHidden}

// DepositResources is how many resources a deposit Bundle carries: an
// Encounter and four vital-sign Observations.
const DepositResources = 5

// Workload is what the load generator needs to drive the server: the
// base URL, the bearer tokens and the parameters picked from the data. It
// travels as JSON to a separate load-generator process, so its CPU time
// can be told apart from the server's.
type Workload struct {
	Base       string        `json:"base"`     // the FHIR base URL
	Operator   string        `json:"operator"` // bearer of the operator: reads, searches, counts, $everything
	Depositor  string        `json:"depositor"`
	DepositOrg string        `json:"deposit_org"` // Organization/ID of the depositing system client
	Doctor     string        `json:"doctor"`      // bearer of the private clinic's doctor
	Ops        []string      `json:"ops"`         // operations each client cycles through
	Clients    int           `json:"clients"`
	Duration   time.Duration `json:"duration"`
	ObsCode    string        `json:"observation_code"`
	CondCode   string        `json:"condition_code"`
	Patients   []string      `json:"patients"` // queried by the search and $everything
	Citizens   []string      `json:"citizens"` // deposit targets
	Reads      []string      `json:"reads"`    // Type/id read by the operator
	Shared     []string      `json:"shared"`   // Type/id the doctor may read
	Hidden     []string      `json:"hidden"`   // Type/id the doctor may not read
}

// ClientResult is what the clients saw: per operation, in Workload.Ops
// order.
type ClientResult struct {
	Seconds float64     `json:"seconds"`
	Ops     []OpSamples `json:"ops"`
	// PeakRSSBytes is the load generator process's own peak resident set
	// (VmHWM; a parent's getrusage of the child would count the parent's
	// pages from before the exec), set by its process.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

// OpSamples are one operation's latencies (µs) and failures across the
// clients; a failure is any answer other than the expected one.
type OpSamples struct {
	Name       string  `json:"name"`
	LatencyUS  []int64 `json:"latency_us"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error,omitempty"`
	Resources  int64   `json:"resources"` // resources written (deposits)
}

// RunClients drives w from w.Clients concurrent clients for w.Duration,
// each cycling through w.Ops from its own starting point (closed loop).
func RunClients(ctx context.Context, w Workload) (ClientResult, error) {
	if w.Clients < 1 || len(w.Ops) == 0 {
		return ClientResult{}, fmt.Errorf("bench: workload needs clients and operations")
	}
	d := newDriver(w)
	per := make([][]OpSamples, w.Clients)
	start := time.Now()
	deadline := start.Add(w.Duration)
	var wg sync.WaitGroup
	for c := range w.Clients {
		per[c] = make([]OpSamples, len(w.Ops))
		wg.Go(func() { d.client(ctx, c, deadline, per[c]) })
	}
	wg.Wait()
	res := ClientResult{Seconds: time.Since(start).Seconds()}
	for i, name := range w.Ops {
		all := OpSamples{Name: name}
		for _, cs := range per {
			s := cs[i]
			all.LatencyUS = append(all.LatencyUS, s.LatencyUS...)
			all.Errors += s.Errors
			all.Resources += s.Resources
			if all.FirstError == "" {
				all.FirstError = s.FirstError
			}
		}
		res.Ops = append(res.Ops, all)
	}
	return res, ctx.Err()
}

// driver sends the workload's requests.
type driver struct {
	w    Workload
	http *http.Client
}

func newDriver(w Workload) *driver {
	return &driver{w: w, http: &http.Client{Timeout: 2 * time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: max(w.Clients, 2)}}}
}

// client runs operations until the deadline.
func (d *driver) client(ctx context.Context, c int, deadline time.Time, out []OpSamples) {
	for i := c; ctx.Err() == nil && time.Now().Before(deadline); i++ {
		oi := i % len(d.w.Ops)
		n := i/len(d.w.Ops) + c*7919 // each client walks the parameters from its own point
		t0 := time.Now()
		written, err := d.do(ctx, d.w.Ops[oi], n)
		lat := time.Since(t0)
		s := &out[oi]
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.Errors++
			if s.FirstError == "" {
				s.FirstError = err.Error()
			}
			continue
		}
		s.LatencyUS = append(s.LatencyUS, lat.Microseconds())
		s.Resources += written
	}
}

// do sends one request of op and checks its answer; it returns the
// resources written.
func (d *driver) do(ctx context.Context, op string, n int) (int64, error) {
	w := d.w
	pick := func(list []string) string { return list[n%len(list)] }
	switch op {
	case OpDeposit:
		body, err := DepositBundle(pick(w.Citizens), w.DepositOrg, time.Now())
		if err != nil {
			return 0, err
		}
		if err := d.send(ctx, http.MethodPost, w.Base, w.Depositor, body, http.StatusOK); err != nil {
			return 0, err
		}
		return DepositResources, nil
	case OpRead:
		return 0, d.get(ctx, "/"+pick(w.Reads), w.Operator, http.StatusOK)
	case OpSearch:
		q := url.Values{"patient": {"Patient/" + pick(w.Patients)}, "code": {w.ObsCode}, "_sort": {"-date"}, "_count": {"10"}}
		return 0, d.get(ctx, "/Observation?"+q.Encode(), w.Operator, http.StatusOK)
	case OpCount:
		q := url.Values{"code": {w.CondCode}, "_summary": {"count"}}
		return 0, d.get(ctx, "/Condition?"+q.Encode(), w.Operator, http.StatusOK)
	case OpEverything:
		return 0, d.get(ctx, "/Patient/"+pick(w.Patients)+"/$everything", w.Operator, http.StatusOK)
	case OpConsentShared:
		return 0, d.get(ctx, "/"+pick(w.Shared), w.Doctor, http.StatusOK)
	case OpConsentHidden:
		return 0, d.get(ctx, "/"+pick(w.Hidden), w.Doctor, http.StatusNotFound)
	}
	return 0, fmt.Errorf("bench: unknown operation %q", op)
}

func (d *driver) get(ctx context.Context, path, bearer string, want int) error {
	return d.send(ctx, http.MethodGet, d.w.Base+path, bearer, nil, want)
}

// send makes one request and reads the whole answer; an answer other than
// want is an error.
func (d *driver) send(ctx context.Context, method, u, bearer string, body []byte, want int) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/fhir+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %s (want %d): %s", method, req.URL.Path, resp.Status, want, b)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// DepositBundle is the deposit of one visit: a transaction Bundle with a
// finished ambulatory Encounter at org and four vital-sign Observations
// (blood pressure, heart rate, weight) of the encounter, for patient, all
// new (urn:uuid fullUrls).
func DepositBundle(patient, org string, at time.Time) ([]byte, error) {
	enc := uuidURN()
	subject := map[string]any{"reference": "Patient/" + patient}
	when := at.UTC().Format(time.RFC3339)
	entries := []any{entry(enc, org, map[string]any{
		"resourceType": "Encounter", "status": "finished",
		"class":           map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"},
		"subject":         subject,
		"serviceProvider": map[string]any{"reference": org},
		"period":          map[string]any{"start": at.Add(-15 * time.Minute).UTC().Format(time.RFC3339), "end": when},
	})}
	vitals := []struct {
		code, display, unit string
		value               float64
	}{
		{"8480-6", "Systolic blood pressure", "mm[Hg]", 128},
		{"8462-4", "Diastolic blood pressure", "mm[Hg]", 82},
		{"8867-4", "Heart rate", "/min", 72},
		{"29463-7", "Body weight", "kg", 64.5},
	}
	for _, v := range vitals {
		entries = append(entries, entry(uuidURN(), org, map[string]any{
			"resourceType": "Observation", "status": "final",
			"category": []any{map[string]any{"coding": []any{map[string]any{
				"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}}}},
			"code":              map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": v.code, "display": v.display}}},
			"subject":           subject,
			"encounter":         map[string]any{"reference": enc},
			"effectiveDateTime": when,
			"valueQuantity":     map[string]any{"value": v.value, "unit": v.unit, "system": "http://unitsofmeasure.org", "code": v.unit},
		}))
	}
	return json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

// CareBundle is a provider's registration of today's visits: an
// in-progress Encounter at org for each patient, which makes a care
// relationship with org.
func CareBundle(patients []string, org string, at time.Time) ([]byte, error) {
	var entries []any
	for _, p := range patients {
		entries = append(entries, entry(uuidURN(), org, map[string]any{
			"resourceType": "Encounter", "status": "in-progress",
			"class":           map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"},
			"subject":         map[string]any{"reference": "Patient/" + p},
			"serviceProvider": map[string]any{"reference": org},
			"period":          map[string]any{"start": at.UTC().Format(time.RFC3339)},
		}))
	}
	return json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

// entry is a POST of res at fullURL, res carrying its source-system
// identifier (the deposit keys a provider's records on it): the
// provider's namespace, source system "bench", the fullUrl's UUID.
func entry(fullURL, org string, res map[string]any) map[string]any {
	res["identifier"] = []any{map[string]any{
		"system": "https://ehealth.hk/fhir/source/" + strings.TrimPrefix(org, "Organization/") + "/bench",
		"value":  strings.TrimPrefix(fullURL, "urn:uuid:")}}
	return map[string]any{"fullUrl": fullURL, "resource": res,
		"request": map[string]any{"method": "POST", "url": res["resourceType"]}}
}

// uuidURN is a random (version 4) urn:uuid.
func uuidURN() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return "urn:uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// OwnPeakRSS is this process's peak resident set since its exec, in
// bytes, from /proc/self/status (VmHWM); 0 off Linux.
func OwnPeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return kb * 1024
				}
			}
		}
	}
	return 0
}
