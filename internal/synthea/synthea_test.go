package synthea_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/deposit"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/synthea"
)

// samples are the Synthea Bundles in ../shared (skipped when absent).
func samples(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob("../../../shared/testdata/synthea/*/*.json.gz")
	if len(files) == 0 {
		t.Skip("../shared/testdata/synthea is not here")
	}
	return files
}

func TestHKID(t *testing.T) {
	seen := map[string]string{}
	for i := range 2000 {
		id := strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('0'+i%10)) + strings.Repeat("y", i/26)
		n := synthea.HKID(id)
		doc, err := identity.Parse(identity.HKID, n, "")
		if err != nil || doc.Number != n {
			t.Fatalf("HKID(%q) = %q: %v", id, n, err)
		}
		if synthea.HKID(id) != n {
			t.Fatalf("HKID(%q) is not deterministic", id)
		}
		if other, dup := seen[n]; dup && other != id {
			t.Logf("HKID collision %q and %q (expected rarely)", id, other)
		}
		seen[n] = id
	}
}

// TestConvertSamples converts every Synthea Bundle: patients give a
// registration the registry accepts and a deposit Bundle with the HKID,
// the record number, a source identifier on every record and no
// reference to what is not deposited; provider files give ErrNoPatient.
func TestConvertSamples(t *testing.T) {
	today := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := synthea.Options{Organization: "clinic", Practitioner: "dr", Today: today}
	ns := deposit.Namespace("clinic") + "synthea"
	patients := 0
	for _, f := range samples(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			file, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			b, err := synthea.Read(file)
			if err != nil {
				t.Fatal(err)
			}
			conv, err := synthea.Convert(b, opts)
			if strings.Contains(f, "Information") {
				if !errors.Is(err, synthea.ErrNoPatient) {
					t.Fatalf("a provider file: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			patients++
			reg, err := registry.ParseRegistration(nil, conv.Registration)
			if err != nil {
				t.Fatalf("the registry refuses the registration: %v", err)
			}
			if reg.Document.Number != conv.HKID || reg.Document.Number != synthea.HKID(conv.SyntheaID) {
				t.Errorf("registered with %s, converted %s", reg.Document, conv.HKID)
			}
			checkDeposit(t, conv.Deposit, ns, conv.HKID)
			again, _ := synthea.Convert(b, opts)
			a, _ := fhir.Marshal(conv.Deposit)
			c, _ := fhir.Marshal(again.Deposit)
			if string(a) != string(c) {
				t.Error("converting twice gives two Bundles")
			}
		})
	}
}

func checkDeposit(t *testing.T, b map[string]any, ns, hkid string) {
	t.Helper()
	full := map[string]bool{}
	entries := b["entry"].([]any)
	for _, e := range entries {
		if u, _ := e.(map[string]any)["fullUrl"].(string); u != "" {
			full[u] = true
		}
	}
	patients := 0
	for i, e := range entries {
		m := e.(map[string]any)
		res := m["resource"].(map[string]any)
		typ := res["resourceType"].(string)
		if req := m["request"].(map[string]any); req["method"] != "POST" || req["url"] != typ {
			t.Errorf("entry %d: request %v", i, req)
		}
		switch typ {
		case "Organization", "Practitioner", "Location", "PractitionerRole", "Provenance":
			t.Errorf("entry %d is a %s", i, typ)
		case "Patient":
			patients++
			ids, _ := fhir.Marshal(map[string]any{"i": res["identifier"]})
			if !strings.Contains(string(ids), hkid) || !strings.Contains(string(ids), ns+"/patient") {
				t.Errorf("the Patient's identifiers: %s", ids)
			}
		default:
			if !hasSystem(res, ns) {
				t.Errorf("entry %d (%s) has no source identifier", i, typ)
			}
		}
		if meta, _ := res["meta"].(map[string]any); meta["profile"] != nil {
			t.Errorf("entry %d keeps meta.profile", i)
		}
		walkRefs(res, func(ref string) {
			switch {
			case strings.HasPrefix(ref, "urn:uuid:") && !full[strings.Split(ref, "#")[0]]:
				t.Errorf("entry %d refers to %s, which is not deposited", i, ref)
			case strings.Contains(ref, "?"):
				t.Errorf("entry %d keeps the conditional reference %s", i, ref)
			case strings.HasPrefix(ref, "Organization/") && ref != "Organization/clinic",
				strings.HasPrefix(ref, "Practitioner/") && ref != "Practitioner/dr",
				strings.HasPrefix(ref, "Location/"):
				t.Errorf("entry %d refers to %s", i, ref)
			}
		})
	}
	if patients != 1 {
		t.Errorf("%d Patients", patients)
	}
}

func hasSystem(res map[string]any, system string) bool {
	ids, _ := res["identifier"].([]any)
	for _, x := range ids {
		if m, _ := x.(map[string]any); m["system"] == system && m["value"] != "" {
			return true
		}
	}
	return false
}

func walkRefs(n any, fn func(string)) {
	switch x := n.(type) {
	case map[string]any:
		for k, v := range x {
			if s, ok := v.(string); ok && k == "reference" {
				fn(s)
			} else {
				walkRefs(v, fn)
			}
		}
	case []any:
		for _, v := range x {
			walkRefs(v, fn)
		}
	}
}
