package accreditation

import (
	"net/url"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// FuzzParams: whatever query or Parameters body $accreditation receives,
// its period is read or refused as the client's mistake (400), never an
// internal error or a panic; a period read starts no later than it ends.
// Seeds: testdata/fuzz/FuzzParams.
func FuzzParams(f *testing.F) {
	f.Add("start=2026-01-01&end=2026-12-31", []byte(""))
	f.Add("", []byte(`{"resourceType":"Parameters","parameter":[{"name":"start","valueDate":"2026-01-01"},{"name":"end","valueDateTime":"2026-06-30T12:00:00+08:00"}]}`))
	now := time.Date(2026, 5, 10, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, rawQuery string, data []byte) {
		query, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		var body map[string]any
		if len(data) > 0 { // empty: a GET
			if body, err = fhir.Parse(data); err != nil {
				return
			}
		}
		start, end, err := parseParams(query, body)
		if err == nil {
			var p Period
			p, err = ParsePeriod(start, end, now)
			if err == nil {
				s, _ := parseBound("start", p.Start)
				e, _ := parseBound("end", p.End)
				if s.After(e) {
					t.Fatalf("period %+v starts after it ends", p)
				}
			}
		}
		if err != nil && outcome.KindOf(err) != outcome.Invalid {
			t.Fatalf("%q %s: %v is not the client's mistake", rawQuery, data, err)
		}
	})
}
