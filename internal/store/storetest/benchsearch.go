package storetest

import (
	"context"
	"fmt"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// patientRows returns about 30 index rows, a well-filled Patient's.
func patientRows(id string) []search.Entry {
	rows := []struct {
		code string
		row  search.Row
	}{
		{"name", search.StringRow{Norm: "virtanen", Exact: "Virtanen"}},
		{"name", search.StringRow{Norm: "aino", Exact: "Aino"}},
		{"name", search.StringRow{Norm: "maria", Exact: "Maria"}},
		{"family", search.StringRow{Norm: "virtanen", Exact: "Virtanen"}},
		{"given", search.StringRow{Norm: "aino", Exact: "Aino"}},
		{"given", search.StringRow{Norm: "maria", Exact: "Maria"}},
		{"phonetic", search.StringRow{Norm: "virtanen", Exact: "Virtanen"}},
		{"address", search.StringRow{Norm: "1 main st", Exact: "1 Main St"}},
		{"address", search.StringRow{Norm: "helsinki", Exact: "Helsinki"}},
		{"address", search.StringRow{Norm: "00100", Exact: "00100"}},
		{"address", search.StringRow{Norm: "fi", Exact: "FI"}},
		{"address-city", search.StringRow{Norm: "helsinki", Exact: "Helsinki"}},
		{"address-postalcode", search.StringRow{Norm: "00100", Exact: "00100"}},
		{"address-country", search.StringRow{Norm: "fi", Exact: "FI"}},
		{"identifier", search.TokenRow{System: "urn:oid:1.2.246.21", Code: "010190-123A" + id, TypeSystem: "http://terminology.hl7.org/CodeSystem/v2-0203", TypeCode: "NI"}},
		{"identifier", search.TokenRow{System: "urn:mrn", Code: "MRN" + id}},
		{"telecom", search.TokenRow{Code: "+358 40 123 4567", TypeCode: "phone"}},
		{"phone", search.TokenRow{Code: "+358 40 123 4567", TypeCode: "phone"}},
		{"email", search.TokenRow{Code: "aino@example.org", TypeCode: "email"}},
		{"gender", search.TokenRow{System: "http://hl7.org/fhir/administrative-gender", Code: "female"}},
		{"active", search.TokenRow{Code: "true"}},
		{"language", search.TokenRow{System: "urn:ietf:bcp:47", Code: "fi", Text: "finnish"}},
		{"_tag", search.TokenRow{System: "urn:tags", Code: "imported"}},
		{"_security", search.TokenRow{System: "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", Code: "N"}},
		{"birthdate", search.DateRow{DateRange: mustDate("1990-01-01")}},
		{"_lastUpdated", search.DateRow{DateRange: mustDate("2024-03-01T08:30:00.123456Z")}},
		{"general-practitioner", search.ReferenceRow{Type: "Practitioner", ID: "dr1"}},
		{"organization", search.ReferenceRow{Type: "Organization", ID: "org1"}},
		{"_profile", search.URIRow{URI: "http://example.org/StructureDefinition/patient-fi"}},
		{"_source", search.URIRow{URI: "urn:source:import"}},
	}
	out := make([]search.Entry, len(rows))
	for i, r := range rows {
		out[i] = search.Entry{ResourceType: "Patient", ResourceID: id, PatientKey: id, Code: r.code, Row: r.row}
	}
	return out
}

// benchPutIndexed creates Patients with ~30 index rows each.
func benchPutIndexed(b *testing.B, s store.Store) {
	ctx := b.Context()
	n := 0
	for b.Loop() {
		n++
		v := benchVersion(fmt.Sprint("p", n), 1)
		v.Index = patientRows(v.ID)
		if err := tryPut(ctx, s, v, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// benchUpdateIndexed updates one of 100 Patients, replacing ~30 rows.
func benchUpdateIndexed(b *testing.B, s store.Store) {
	ctx := b.Context()
	const resources = 100
	vid := make([]int64, resources)
	n := 0
	for b.Loop() {
		i := n % resources
		n++
		v := benchVersion(fmt.Sprint("p", i), vid[i]+1)
		v.Index = patientRows(v.ID)
		if err := tryPut(ctx, s, v, vid[i]); err != nil {
			b.Fatal(err)
		}
		vid[i]++
	}
}

// observationRows returns the rows of Observation i of patient pk: code
// (one of 20; "c0" in a quarter of them), date, value, subject, status.
func observationRows(id, pk string, i int) []search.Entry {
	code := fmt.Sprint("c", i%20)
	if i%4 == 0 {
		code = "c0"
	}
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%1500)
	rows := []struct {
		code string
		row  search.Row
	}{
		{"code", search.TokenRow{System: "http://loinc.org", Code: code, Text: "observation " + code}},
		{"date", search.DateRow{DateRange: search.DateRange{Lo: day.UnixMicro(), Hi: day.Add(time.Second).UnixMicro()}}},
		{"subject", search.ReferenceRow{Type: "Patient", ID: pk}},
		{"patient", search.ReferenceRow{Type: "Patient", ID: pk}},
		{"status", search.TokenRow{System: "http://hl7.org/fhir/observation-status", Code: "final"}},
		{"value-quantity", search.QuantityRow{Lo: big.NewRat(int64(i%200), 1), Hi: big.NewRat(int64(i%200), 1),
			System: search.UCUMSystem, Code: "mg", Unit: "mg", CanonLo: big.NewRat(int64(i%200), 1000), CanonHi: big.NewRat(int64(i%200), 1000), CanonUnit: "g"}},
	}
	out := make([]search.Entry, len(rows))
	for j, r := range rows {
		out[j] = search.Entry{ResourceType: "Observation", ResourceID: id, PatientKey: pk, Code: r.code, Row: r.row}
	}
	return out
}

// benchSearch loads 20,000 Observations of 200 patients, then times a
// patient-scoped token+date search sorted by date with _count=10, and a
// _summary=count of a common code over all of them.
func benchSearch(b *testing.B, s store.Store) {
	ctx := b.Context()
	const patients, perPatient = 200, 100
	for p := range patients {
		err := s.Write(ctx, func(tx store.Tx) error {
			for i := range perPatient {
				pk := fmt.Sprint("p", p)
				v := benchVersion(fmt.Sprint("o", p, "-", i), 1)
				v.Type, v.PatientKey, v.Index = "Observation", pk, observationRows(v.ID, pk, p*perPatient+i)
				if err := tx.Put(ctx, v, 0); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if a, ok := s.(interface{ Analyze(context.Context) error }); ok {
		if err := a.Analyze(ctx); err != nil {
			b.Fatal(err)
		}
	}
	sr := searcher(b, s)
	reg := search.NewRegistry()
	plan := func(q string) *search.Query {
		vals, _ := url.ParseQuery(q)
		p, _, err := search.Parse("Observation", vals, reg, true)
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	access := store.Access{Patients: []string{"p7", "p8", "p9"}, NonPatient: true}
	b.Run("PatientTokenDateSorted", func(b *testing.B) {
		q := store.SearchQuery{Plan: plan("code=http://loinc.org|c0&date=ge2020-06-01&_sort=-date&_count=10"), Access: access, Patient: "p7"}
		for b.Loop() {
			page, err := sr.Search(ctx, q)
			if err != nil || len(page.Versions) != 10 {
				b.Fatalf("%d versions, %v", len(page.Versions), err)
			}
		}
	})
	b.Run("CountCommonCode", func(b *testing.B) {
		q := store.SearchQuery{Plan: plan("code=c0&_summary=count"), Access: store.AccessAll}
		for b.Loop() {
			page, err := sr.Search(ctx, q)
			if err != nil || page.Total != patients*perPatient/4 {
				b.Fatalf("total %d, %v", page.Total, err)
			}
		}
	})
	b.Run("CountCommonCodeHalfAccess", func(b *testing.B) {
		var keys []string
		for p := range patients / 2 {
			keys = append(keys, fmt.Sprint("p", p))
		}
		q := store.SearchQuery{Plan: plan("code=c0&_summary=count"), Access: store.Access{Patients: keys}}
		for b.Loop() {
			if _, err := sr.Search(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	})
}
