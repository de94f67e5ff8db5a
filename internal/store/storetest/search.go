package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

var searchTests = []test{
	{"SearchString", testSearchString},
	{"SearchToken", testSearchToken},
	{"SearchDate", testSearchDate},
	{"SearchNumberQuantity", testSearchNumberQuantity},
	{"SearchReferenceURI", testSearchReferenceURI},
	{"SearchComposite", testSearchComposite},
	{"SearchChainsAndHas", testSearchChainsAndHas},
	{"SearchSemiJoins", testSearchSemiJoins},
	{"SearchIDAndLastUpdated", testSearchIDAndLastUpdated},
	{"SearchSystemAndCompartment", testSearchSystemAndCompartment},
	{"SearchTotals", testSearchTotals},
	{"SearchAccessPredicate", testSearchAccess},
	{"SearchRestrictedKey", testSearchRestricted},
	{"SearchPrivateKey", testSearchPrivate},
	{"RekeyRestrictedAndPrivate", testRekeyRestricted},
	{"SearchIncludes", testSearchIncludes},
	{"SearchSort", testSearchSort},
	{"SearchPaging", testSearchPaging},
	{"SearchIndexFollowsVersions", testSearchIndexFollowsVersions},
	{"SearchBadCursor", testSearchBadCursor},
	{"SearchAgreesWithMatch", testSearchAgreesWithMatch},
	{"SearchExplain", testSearchExplain},
	{"SearchText", testSearchText},
	{"SearchList", testSearchList},
	{"SearchNear", testSearchNear},
	{"SearchNearAgreesWithMatch", testSearchNearAgreesWithMatch},
}

func storeQuery(q *search.Query) store.SearchQuery {
	return store.SearchQuery{Plan: q, Access: store.AccessAll}
}

func clinicWorld(t *testing.T, s store.Store) *world {
	w := newWorld(t, s)
	clinic(t, w)
	return w
}

func testSearchString(t *testing.T, s store.Store) {
	runClinicCases(t, clinicWorld(t, s), []fixtureSearchCase{
		{"Patient", "name=chan", "Patient/p1 p6"},
		{"Patient", "name=CH", "Patient/p1 p2 p6 p7"},
		{"Patient", "name=zoe", "Patient/p4"},           // accents folded
		{"Patient", "name=m%C3%A9n", "Patient/p4"},      // "mén"
		{"Patient", "name:exact=Chan", "Patient/p1 p6"}, // as written
		{"Patient", "name:exact=chan", ""},
		{"Patient", "name:exact=Zo%C3%AB", "Patient/p4"},
		{"Patient", "name:contains=an", "Patient/p1 p6 p9"}, // Chan, Man, Yan
		{"Patient", "name:contains=ING", "Patient/p6"},
		{"Patient", "name=chan,wong", "Patient/p1 p3 p6"},
		{"Patient", "name=chan&name=siu", "Patient/p6"},
		{"Patient", "name=50%25", ""}, // a % is a character, not a wildcard
		{"Practitioner", "name=lee", "Practitioner/dr2"},
		{"Organization", "name=acme%20cl", "Organization/org1"},
	})
}

func testSearchToken(t *testing.T, s store.Store) {
	w := clinicWorld(t, s)
	runClinicCases(t, w, []fixtureSearchCase{
		{"Observation", "code=8480-6", "Observation/o1 o3 o4 o6"},
		{"Observation", "code=http://loinc.org|8480-6", "Observation/o1 o3 o4 o6"},
		{"Observation", "code=urn:local|8480-6", ""},
		{"Observation", "code=|8480-6", ""},
		{"Observation", "code=http://loinc.org|", "Observation/o1 o2 o3 o4 o5 o6 o9"},
		{"Observation", "code=8480-6,8462-4", "Observation/o1 o2 o3 o4 o6"},
		{"Observation", "code:text=systolic", "Observation/o1 o3 o4 o6"},
		{"Observation", "code:text=BLOOD%20P", "Observation/o9"},
		{"Observation", "code:text=pressure", ""}, // starts-with, like string search
		{"Observation", "code:not=8480-6", "Observation/o2 o5 o7 o8 o9"},
		{"Observation", "code:not=8480-6,zz-1", "Observation/o2 o5 o8 o9"},
		{"Observation", "code=8480-6&date=ge2024-01-01", "Observation/o1 o3 o4"},
		{"Patient", "gender=female", "Patient/p2 p4 p7 p9"},
		{"Patient", "gender:missing=true", "Patient/p5"},
		{"Patient", "gender:missing=false", "Patient/p1 p2 p3 p4 p6 p7 p8 p9 p10"},
		{"Patient", "gender:not=male", "Patient/p2 p4 p5 p7 p9 p10"}, // no value matches :not
		{"Patient", "identifier=urn:hkid|A1", "Patient/p1"},
		{"Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|NI|A1", "Patient/p1"},
		{"Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|A1", ""},
		{"DiagnosticReport", "status=final", "DiagnosticReport/rep1"},
	})
	// :in and :not-in use the expansion the caller puts in the value.
	for _, tc := range []struct{ mod, want string }{
		{"in", "Observation/o2 o5"},
		{"not-in", "Observation/o1 o3 o4 o6 o7 o8 o9"},
		{"below", "Observation/o2 o5"},
	} {
		q := w.plan("Observation", "code:"+tc.mod+"=http://example.org/vs")
		q.Clauses[0].Values[0].Token.Expanded = []search.Coding{{System: "http://loinc.org", Code: "8462-4"}, {Code: "29463-7"}, {System: "urn:other", Code: "8480-6"}}
		if got := sortedRefs(w.all(storeQuery(q))); got != expand(tc.want) {
			t.Errorf("code:%s = %s, want %s", tc.mod, got, expand(tc.want))
		}
	}
}

func testSearchDate(t *testing.T, s store.Store) {
	runClinicCases(t, clinicWorld(t, s), []fixtureSearchCase{
		{"Observation", "date=2024-01", "Observation/o1 o3 o4"},
		{"Observation", "date=2024-01-20", "Observation/o3"}, // a second inside the day
		{"Observation", "date=2024-01-20T10:00:00Z", "Observation/o3"},
		{"Observation", "date=2024-01-20T11:00:00%2B01:00", "Observation/o3"},
		{"Observation", "date=gt2024-01-15", "Observation/o2 o3"},
		{"Observation", "date=lt2024-01-15", "Observation/o1 o5 o6"},
		{"Observation", "date=ge2024-01-15", "Observation/o2 o3 o4"},
		{"Observation", "date=le2024-01-15", "Observation/o1 o4 o5 o6"},
		{"Observation", "date=sa2024-01-15", "Observation/o2 o3"},
		{"Observation", "date=eb2024-01-15", "Observation/o1 o5 o6"},
		{"Observation", "date=ne2024-01", "Observation/o2 o5 o6"},
		{"Observation", "date=ge2024-01-01&date=lt2024-02", "Observation/o1 o3 o4"},
		{"Observation", "date=2023,2024-02", "Observation/o2 o5 o6"},
		{"Observation", "date:missing=true", "Observation/o7 o8 o9"},
		{"Patient", "birthdate=1980", "Patient/p1 p5"},
		{"Patient", "birthdate=1980-05", "Patient/p1"},         // p5's 1980 is wider than May
		{"Patient", "birthdate=le1980-01-01", "Patient/p3 p9"}, // p5's 1980 is not inside the day
	})
}

func testSearchNumberQuantity(t *testing.T, s store.Store) {
	runClinicCases(t, clinicWorld(t, s), []fixtureSearchCase{
		{"RiskAssessment", "probability=0.25", "RiskAssessment/ra1"},
		{"RiskAssessment", "probability=0.8", "RiskAssessment/ra2"}, // 0.80 lies in [0.75, 0.85)
		{"RiskAssessment", "probability=0.80", "RiskAssessment/ra2"},
		{"RiskAssessment", "probability=0.2", ""}, // [0.15, 0.25): 0.25 is not inside
		{"RiskAssessment", "probability=gt0.5", "RiskAssessment/ra2"},
		{"RiskAssessment", "probability=lt0.5", "RiskAssessment/ra1 ra3"},
		{"RiskAssessment", "probability=le0.1", "RiskAssessment/ra3"},
		{"RiskAssessment", "probability=ge0.3", "RiskAssessment/ra2 ra3"},
		{"RiskAssessment", "probability=sa0.3", "RiskAssessment/ra2"},
		{"RiskAssessment", "probability=eb0.2", ""},
		{"RiskAssessment", "probability=ne0.25", "RiskAssessment/ra2 ra3"},
		{"RiskAssessment", "probability=ap0.26", "RiskAssessment/ra1 ra3"},
		{"Observation", "value-quantity=120||mm[Hg]", "Observation/o1 o6"}, // 16 kPa is 120.0 mm[Hg]
		{"Observation", "value-quantity=120|http://unitsofmeasure.org|mm[Hg]", "Observation/o1 o6"},
		{"Observation", "value-quantity=gt100||mm[Hg]", "Observation/o1 o3 o4 o6"},
		{"Observation", "value-quantity=70000||g", "Observation/o5"},
		{"Observation", "value-quantity=70|http://unitsofmeasure.org|kg", "Observation/o5"},
		{"Observation", "value-quantity=lt100", "Observation/o2 o5 o6"}, // no unit: values as written
		{"Observation", "value-quantity=70|urn:other|kg", ""},
		{"Observation", "value-quantity:missing=true", "Observation/o7 o8 o9"},
	})
}

func testSearchReferenceURI(t *testing.T, s store.Store) {
	runClinicCases(t, clinicWorld(t, s), []fixtureSearchCase{
		{"Observation", "subject=Patient/p1", "Observation/o1 o2 o8"},
		{"Observation", "subject=p1", "Observation/o1 o2 o8"},
		{"Observation", "subject:Patient=p2", "Observation/o3"},
		{"Observation", "patient=p2", "Observation/o3"},
		{"Observation", "performer=Patient/p2", "Observation/o7"},
		{"Observation", "performer=Practitioner/dr1,Practitioner/dr2", "Observation/o1 o3"},
		{"Observation", "performer=https://other.org/fhir/Practitioner/ext1", "Observation/o5"},
		{"Observation", "performer=https://other.org/fhir/Practitioner/dr1", ""}, // not the local dr1
		{"Observation", "subject:identifier=urn:hkid|A1", "Observation/o2"},
		{"Observation", "subject:identifier=A1", "Observation/o2"},
		{"Observation", "subject:identifier=urn:other|A1", ""},
		{"Observation", "performer:missing=true", "Observation/o2 o4 o6 o9"},
		{"Patient", "general-practitioner=Practitioner/dr2", "Patient/p2 p5 p8"},
		{"ValueSet", "url=http://acme.org/fhir/ValueSet/a", "ValueSet/vs1"},
		{"ValueSet", "url=http://acme.org/fhir", ""},
		{"ValueSet", "url:below=http://acme.org/fhir", "ValueSet/vs1 vs2"},
		{"ValueSet", "url:below=http://acme.org/fh", ""}, // whole path segments only
		{"ValueSet", "url:above=http://acme.org/fhir/ValueSet/a/v2", "ValueSet/vs1"},
		{"ValueSet", "url:above=http://acme.org/fhir/ValueSet", ""},
	})
}

func testSearchComposite(t *testing.T, s store.Store) {
	runClinicCases(t, clinicWorld(t, s), []fixtureSearchCase{
		{"Observation", "code-value-quantity=8480-6$gt125||mm[Hg]", "Observation/o3 o4"},
		{"Observation", "code-value-quantity=http://loinc.org|8462-4$80||mm[Hg]", "Observation/o2"},
		{"Observation", "component-code-value-quantity=8480-6$110||mm[Hg]", "Observation/o9"},
		// 70 mm[Hg] belongs to the diastolic component: parts never mix.
		{"Observation", "component-code-value-quantity=8480-6$70||mm[Hg]", ""},
		{"Observation", "component-code-value-quantity:missing=false", "Observation/o9"},
	})
}

func testSearchChainsAndHas(t *testing.T, s store.Store) {
	runClinicCases(t, clinicWorld(t, s), []fixtureSearchCase{
		{"Observation", "subject:Patient.name=chan", "Observation/o1 o2 o4 o8"},
		{"Observation", "subject:Patient.gender=female", "Observation/o3 o5 o9"},
		{"Observation", "subject:Patient.general-practitioner:Practitioner.name=wong", "Observation/o1 o2 o4 o5 o6 o8"},
		{"Observation", "subject:Patient.birthdate=lt1980&code=8480-6", "Observation/o6"},
		{"Observation", "subject:Patient.gender:missing=true", ""},
		{"Patient", "general-practitioner.name=lee", "Patient/p2 p5 p8"},
		{"Patient", "organization.name=acme", "Patient/p1 p2"},
		{"Patient", "_has:Observation:patient:code=8480-6", "Patient/p1 p2 p3 p6"},
		{"Patient", "_has:Observation:patient:code=8480-6&gender=male", "Patient/p1 p3 p6"},
		{"Patient", "_has:Observation:performer:code=zz-1", "Patient/p2"},
		{"Patient", "_has:Observation:patient:_has:DiagnosticReport:result:status=final", "Patient/p2"},
		{"Practitioner", "_has:Patient:general-practitioner:_has:Observation:patient:code=29463-7", "Practitioner/dr1"},
		{"Patient", "_has:Observation:patient:subject:Patient.name=wong", "Patient/p3"},
	})
}

func testSearchIDAndLastUpdated(t *testing.T, s store.Store) {
	w := clinicWorld(t, s)
	at := func(key string) string { return w.vs[key].Updated.Format(time.RFC3339) }
	runClinicCases(t, w, []fixtureSearchCase{
		{"Patient", "_id=p3,p4", "Patient/p3 p4"},
		{"Patient", "_id=p3&name=wong", "Patient/p3"},
		{"Patient", "_id=p3&name=chan", ""},
		{"Patient", "_id=dr1", ""},
		{"Patient", "_lastUpdated=ge" + at("Patient/p8") + "&_lastUpdated=lt" + at("Observation/o1"), "Patient/p8 p9 p10"},
		{"Patient", "_lastUpdated=" + at("Patient/p2"), "Patient/p2"},
		{"Patient", "_lastUpdated=gt" + at("Patient/p9"), "Patient/p10"},
		{"Patient", "_lastUpdated=2024-03-01&gender=other", "Patient/p10"},
		{"Observation", "subject:Patient._id=p2", "Observation/o3"},
	})
}

func testSearchSystemAndCompartment(t *testing.T, s store.Store) {
	w := clinicWorld(t, s)
	runClinicCases(t, w, []fixtureSearchCase{
		{"", "_type=Patient,Practitioner&name=lee", "Patient/p5 Practitioner/dr2"},
		{"", "_type=Patient,Practitioner,Organization&name=a", "Organization/org1 Practitioner/dr2"},
		{"", "_id=o1,p1,dr1", "Observation/o1 Patient/p1 Practitioner/dr1"},
	})
	for _, tc := range []struct{ typ, query, patient, want string }{
		{"Observation", "code=8480-6", "p1", "Observation/o1"},
		{"Observation", "", "p1", "Observation/o1 o2 o8"},
		{"", "", "p2", "DiagnosticReport/rep1 Observation/o3 Patient/p2 RiskAssessment/ra2"},
		{"Observation", "code=8480-6", "p6", "Observation/o4"},
		{"Observation", "code=8480-6", "nobody", ""},
	} {
		q := storeQuery(w.plan(tc.typ, tc.query))
		q.Patient = tc.patient
		if got := sortedRefs(w.all(q)); got != expand(tc.want) {
			t.Errorf("compartment %s %s?%s = %s, want %s", tc.patient, tc.typ, tc.query, got, expand(tc.want))
		}
	}

	// Re-keying p2's compartment under p1 (a linked record) moves its
	// resources and their index rows; past versions keep their key.
	var moved int64
	err := s.Write(t.Context(), func(tx store.Tx) error {
		var err error
		moved, err = tx.RekeyCompartment(t.Context(), "p2", "p1")
		return err
	})
	if err != nil || moved != 4 {
		t.Fatalf("RekeyCompartment moved %d, %v; want the 4 resources of p2", moved, err)
	}
	for _, tc := range []struct{ typ, query, patient, want string }{
		{"Observation", "", "p1", "Observation/o1 o2 o3 o8"},
		{"", "", "p2", ""},
		{"Observation", "code=8480-6", "p1", "Observation/o1 o3"},
	} {
		q := storeQuery(w.plan(tc.typ, tc.query))
		q.Patient = tc.patient
		if got := sortedRefs(w.all(q)); got != expand(tc.want) {
			t.Errorf("after the re-key, compartment %s %s?%s = %s, want %s", tc.patient, tc.typ, tc.query, got, expand(tc.want))
		}
	}
	if got := sortedRefs(w.all(store.SearchQuery{Plan: w.plan("Observation", "code=8480-6"), Access: store.Access{Patients: []string{"p2"}}})); got != "" {
		t.Errorf("p2's predicate still sees %s after the re-key", got)
	}
	if v, err := s.Read(t.Context(), "Observation", "o3"); err != nil || v.PatientKey != "p1" {
		t.Errorf("Read(Observation/o3) key %q, %v; want p1", v.PatientKey, err)
	}
	if v, err := s.ReadVersion(t.Context(), "Observation", "o3", 1); err != nil || v.PatientKey != "p2" {
		t.Errorf("its first version's key %q, %v; want p2 as written", v.PatientKey, err)
	}
}

func testSearchTotals(t *testing.T, s store.Store) {
	w := clinicWorld(t, s)
	page := w.run(storeQuery(w.plan("Observation", "code=8480-6&_summary=count")))
	if page.Total != 4 || len(page.Versions) != 0 || page.Next != "" {
		t.Errorf("_summary=count: total %d, %d versions, next %q; want 4, 0, none", page.Total, len(page.Versions), page.Next)
	}
	page = w.run(storeQuery(w.plan("Observation", "code=8480-6&_total=none")))
	if page.Total != -1 || len(page.Versions) != 4 {
		t.Errorf("_total=none: total %d, %d versions; want -1, 4", page.Total, len(page.Versions))
	}
	page = w.run(storeQuery(w.plan("Observation", "code=8480-6&_count=1")))
	if page.Total != 4 || len(page.Versions) != 1 || page.Next == "" {
		t.Errorf("_count=1: total %d, %d versions, next %q", page.Total, len(page.Versions), page.Next)
	}
	page = w.run(storeQuery(w.plan("Observation", "code=8480-6&_count=0")))
	if page.Total != 4 || len(page.Versions) != 0 {
		t.Errorf("_count=0: total %d, %d versions", page.Total, len(page.Versions))
	}
}

// testSearchAccess runs the half-hiding predicate: p6…p10 are hidden, and
// nothing of theirs may match, count, be included or make another
// resource match through a chain or _has.
func testSearchAccess(t *testing.T, s store.Store) {
	w := clinicWorld(t, s)
	grantHalf(t, s)
	for _, tc := range []struct {
		typ, query string
		access     store.Access
		want       string
	}{
		{"Observation", "code=8480-6", half, "Observation/o1 o3 o6"},
		{"Patient", "name=chan", half, "Patient/p1"},
		{"Patient", "", half, "Patient/p1 p2 p3 p4 p5"},
		{"Practitioner", "name=lee", half, "Practitioner/dr2"},
		{"Practitioner", "name=lee", store.Access{Patients: []string{"p1"}}, ""},
		{"Patient", "name=chan", store.Access{Patients: []string{"p6"}}, "Patient/p6"},
		{"Patient", "name=chan", nobody, ""},
		{"", "_type=Patient,Practitioner&name=lee", store.Access{Patients: []string{"p5"}}, "Patient/p5"},
		// A hidden Observation (o7, compartment p8) refers to visible p2.
		{"Patient", "_has:Observation:performer:code=zz-1", store.AccessAll, "Patient/p2"},
		{"Patient", "_has:Observation:performer:code=zz-1", half, ""},
		{"Patient", "_has:Observation:patient:code=8480-6", half, "Patient/p1 p2 p3"},
		// Visible o8 (compartment p1) refers to hidden p9.
		{"Observation", "performer:Patient.name=ho", store.AccessAll, "Observation/o8"},
		{"Observation", "performer:Patient.name=ho", half, ""},
		{"Observation", "performer:Patient.gender:missing=false", half, ""},
		{"Observation", "subject:Patient.general-practitioner:Practitioner.name=wong", half, "Observation/o1 o2 o6 o8"},
		{"Practitioner", "_has:Patient:general-practitioner:_has:Observation:patient:code=29463-7", half, ""},
		{"Observation", "code:not=zz-1", half, "Observation/o1 o2 o3 o6 o8 o9"},
	} {
		accesses := []store.Access{tc.access}
		if tc.access.NonPatient && slices.Equal(tc.access.Patients, half.Patients) {
			accesses = append(accesses, halfGranted) // the same patients, by grants
		}
		for _, access := range accesses {
			q := w.plan(tc.typ, tc.query)
			got := w.all(store.SearchQuery{Plan: q, Access: access})
			if g := sortedRefs(got); g != expand(tc.want) {
				t.Errorf("%s?%s under %+v\n got %s\nwant %s", tc.typ, tc.query, access, g, expand(tc.want))
			}
			page := w.run(store.SearchQuery{Plan: w.plan(tc.typ, tc.query+"&_summary=count"), Access: access})
			if page.Total != int64(len(strings.Fields(tc.want))) {
				t.Errorf("%s?%s under %+v: count %d, want %d", tc.typ, tc.query, access, page.Total, len(strings.Fields(tc.want)))
			}
		}
	}
	// In one patient's compartment the predicate is decided once for the
	// patient; what the compartment's resources refer to is still checked
	// row by row.
	for _, tc := range []struct{ typ, query, patient, want string }{
		{"Observation", "", "p1", "Observation/o1 o2 o8"},
		{"Observation", "", "p6", ""},
		{"Observation", "code=8480-6", "p6", ""},
		{"", "", "p8", ""},
		{"Observation", "performer:Patient.name=ho", "p1", ""},                     // o8 refers to hidden p9
		{"Observation", "subject:Patient.name=chan", "p1", "Observation/o1 o2 o8"}, // p1 is visible
		{"Patient", "_has:Observation:performer:code=zz-1", "p2", ""},              // o7 is hidden
	} {
		for _, access := range []store.Access{half, halfGranted} {
			q := store.SearchQuery{Plan: w.plan(tc.typ, tc.query), Access: access, Patient: tc.patient}
			if got := sortedRefs(w.all(q)); got != expand(tc.want) {
				t.Errorf("compartment %s %s?%s under %+v = %s, want %s", tc.patient, tc.typ, tc.query, access, got, expand(tc.want))
			}
			q.Plan = w.plan(tc.typ, tc.query+"&_summary=count")
			if page := w.run(q); page.Total != int64(len(strings.Fields(tc.want))) {
				t.Errorf("compartment %s %s?%s under %+v: count %d, want %d", tc.patient, tc.typ, tc.query, access, page.Total, len(strings.Fields(tc.want)))
			}
		}
	}
	// Visible, the check of a read, agrees with the predicate.
	for key, want := range map[string]bool{"p1": true, "p5": true, "p6": false, "p7": false, "p8": false, "p9": false, "": true} {
		for _, access := range []store.Access{half, halfGranted} {
			got, err := s.Visible(t.Context(), access, key, "test")
			if err != nil || got != want {
				t.Errorf("Visible(%+v, %q) = %v, %v; want %v", access, key, got, err, want)
			}
		}
	}

	// A provider sees what it deposited, whoever it is about, and nothing
	// else of that patient.
	ow := w.put("Observation", "ow", "p7", w.f("Observation", "code", "CodeableConcept", `{"coding":[{"system":"http://loinc.org","code":"8480-6"}]}`))
	err := s.Write(t.Context(), func(tx store.Tx) error { // the same version, written by the clinic
		v := *ow
		v.VersionID, v.Writer, v.Index = ow.VersionID+1, "Organization/clinic", ow.Index
		return tx.Put(t.Context(), &v, ow.VersionID)
	})
	if err != nil {
		t.Fatal(err)
	}
	clinic := store.Access{Writers: []string{"Organization/clinic"}}
	for _, tc := range []struct {
		query, patient string
		access         store.Access
		want           string
	}{
		{"code=8480-6", "", clinic, "Observation/ow"},
		{"", "", clinic, "Observation/ow"},
		{"", "p7", clinic, "Observation/ow"},
		{"subject:Patient.name=chan", "", clinic, ""}, // p7 itself stays hidden
		{"code=8480-6", "", store.Access{Patients: half.Patients, NonPatient: true, Writers: clinic.Writers}, "Observation/o1 o3 o6 ow"},
		{"code=8480-6", "", store.Access{Writers: []string{"Organization/other"}}, ""},
	} {
		q := store.SearchQuery{Plan: w.plan("Observation", tc.query), Access: tc.access, Patient: tc.patient}
		if got := sortedRefs(w.all(q)); got != expand(tc.want) {
			t.Errorf("Observation?%s (patient %q) under %+v = %s, want %s", tc.query, tc.patient, tc.access, got, expand(tc.want))
		}
		q.Plan = w.plan("Observation", tc.query+"&_summary=count")
		if page := w.run(q); page.Total != int64(len(strings.Fields(tc.want))) {
			t.Errorf("Observation?%s under %+v: count %d, want %d", tc.query, tc.access, page.Total, len(strings.Fields(tc.want)))
		}
	}
	for _, tc := range []struct {
		writer string
		want   bool
	}{{"Organization/clinic", true}, {"Organization/other", false}, {"", false}} {
		if got, err := s.Visible(t.Context(), clinic, "p7", tc.writer); err != nil || got != tc.want {
			t.Errorf("Visible(clinic, p7, %q) = %v, %v; want %v", tc.writer, got, err, tc.want)
		}
	}
}
