package fhir

import (
	"reflect"
	"slices"
	"sort"
	"testing"
)

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func hasSubsetted(t *testing.T, res map[string]any) {
	t.Helper()
	meta, _ := res["meta"].(map[string]any)
	tags, _ := meta["tag"].([]any)
	n := 0
	for _, tg := range tags {
		tag := tg.(map[string]any)
		if tag["system"] == subsettedSystem && tag["code"] == subsettedCode {
			n++
		}
	}
	if n != 1 {
		t.Errorf("want one SUBSETTED tag, meta = %v", meta)
	}
}

func TestSummary(t *testing.T) {
	const obs = `{"resourceType":"Observation","id":"o","status":"final","code":{"text":"c"},"note":[{"text":"n"}],
		"component":[{"code":{"text":"a"},"valueString":"v","interpretation":[{"text":"i"}],"extension":[{"url":"u","valueString":"e"}]}]}`
	tests := []struct {
		name, in, mode string
		want           []string
	}{
		{"true patient", validPatient, "true", []string{"_birthDate", "active", "birthDate", "deceasedBoolean", "gender", "id", "identifier", "link", "managingOrganization", "meta", "name", "resourceType", "telecom"}},
		{"text patient", validPatient, "text", []string{"id", "meta", "resourceType", "text"}},
		{"text observation keeps mandatory", benchObservation, "text", []string{"code", "id", "meta", "resourceType", "status", "text"}},
		{"true observation", obs, "true", []string{"code", "component", "id", "meta", "resourceType", "status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mutate(t, tt.in, nil)
			before, _ := Marshal(res)
			got := Summary(res, tt.mode)
			if ks := keysOf(got); !slices.Equal(ks, tt.want) {
				t.Errorf("keys %v, want %v", ks, tt.want)
			}
			hasSubsetted(t, got)
			if after, _ := Marshal(res); string(after) != string(before) {
				t.Error("input was modified")
			}
		})
	}
	// In _summary=true, backbone elements keep only their summary elements:
	// Observation.component.code and value[x] are summary; interpretation and extension are not.
	got := Summary(mutate(t, obs, nil), "true")
	item := got["component"].([]any)[0].(map[string]any)
	if ks := keysOf(item); !slices.Equal(ks, []string{"code", "valueString"}) {
		t.Errorf("item keys %v", ks)
	}
	data := Summary(mutate(t, validPatient, nil), "data")
	if _, ok := data["text"]; ok || data["name"] == nil {
		t.Errorf("data summary: %v", keysOf(data))
	}
	hasSubsetted(t, data)
	in := mutate(t, validPatient, nil)
	if out := Summary(in, "false"); !reflect.DeepEqual(out, in) {
		t.Error("_summary=false changed the resource")
	}
}

func TestElements(t *testing.T) {
	res := mutate(t, benchObservation, nil)
	got := Elements(res, []string{"value", "Observation.subject"})
	want := []string{"code", "id", "meta", "resourceType", "status", "subject"}
	if ks := keysOf(got); !slices.Equal(ks, want) {
		t.Errorf("keys %v, want %v", ks, want)
	}
	hasSubsetted(t, got)
	if tags := res["meta"].(map[string]any)["tag"]; tags != nil {
		t.Error("input meta was modified")
	}
	got = Elements(res, []string{"component"})
	if got["component"] == nil {
		t.Error("component dropped")
	}
	p := Elements(mutate(t, validPatient, nil), []string{"birthDate"})
	if p["_birthDate"] == nil || p["birthDate"] == nil || p["name"] != nil {
		t.Errorf("patient keys %v", keysOf(p))
	}
	hasSubsetted(t, Elements(Elements(res, nil), nil))
}

func TestPatientRefs(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"patient", validPatient, []string{"p1"}},
		{"observation", `{"resourceType":"Observation","subject":{"reference":"Patient/a"},"performer":[{"reference":"Practitioner/x"},{"reference":"https://h/fhir/Patient/b/_history/3"},{"reference":"Patient/a"}]}`, []string{"a", "b"}},
		{"group subject", `{"resourceType":"Observation","subject":{"reference":"Group/g"}}`, nil},
		{"nested path", `{"resourceType":"Claim","patient":{"reference":"Patient/a"},"payee":{"party":{"reference":"Patient/c"}}}`, []string{"a", "c"}},
		{"appointment", `{"resourceType":"Appointment","participant":[{"actor":{"reference":"Patient/a"}},{"actor":{"reference":"Location/l"}}]}`, []string{"a"}},
		{"relative with prefix", `{"resourceType":"Observation","subject":{"reference":"x/Patient/a"}}`, nil},
		{"not in compartment", `{"resourceType":"Organization","id":"o"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PatientRefs(mutate(t, tt.in, nil)); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	for typ, want := range map[string]bool{"Patient": true, "Observation": true, "Organization": false, "Person": true} {
		if got := IsInPatientCompartment(typ); got != want {
			t.Errorf("IsInPatientCompartment(%s) = %v", typ, got)
		}
	}
	if got := PatientCompartmentPaths("Observation"); !slices.Equal(got, []string{"subject", "performer"}) {
		t.Errorf("Observation paths %v", got)
	}
}
