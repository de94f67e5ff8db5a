package demo_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/demo"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// TestLooksRegistered registers generated citizens — an adult, and a child
// with their parent as SDM — through the registry, and checks that what
// the generator wrote has the very shape of what the registry stored:
// the same elements, code systems, codes, tags and extensions (ids, dates,
// names and numbers aside).
func TestLooksRegistered(t *testing.T) {
	c := generate(t, demo.Config{Citizens: 300, Seed: 3})
	sdm := map[string]map[string]any{}
	for _, rp := range c.byTyp["RelatedPerson"] {
		sdm[rp["patient"].(map[string]any)["reference"].(string)] = rp
	}
	consents := map[string]map[string]any{}
	invitations := map[string]map[string]any{}
	for _, con := range c.byTyp["Consent"] {
		if strings.HasSuffix(con["id"].(string), "-join") {
			consents[con["patient"].(map[string]any)["reference"].(string)] = con
		}
	}
	for _, cr := range c.byTyp["CommunicationRequest"] {
		invitations[cr["subject"].(map[string]any)["reference"].(string)] = cr
	}
	var adult, child map[string]any
	for _, p := range c.byTyp["Patient"] {
		key := "Patient/" + p["id"].(string)
		rp, minor := sdm[key]
		switch {
		case !minor && adult == nil && p["link"] == nil:
			adult = p
		case minor && child == nil && rp["identifier"] != nil && strings.HasPrefix(p["birthDate"].(string), "2015"):
			child = p
		}
	}
	if adult == nil || child == nil {
		t.Fatal("no adult, or no child of 2015 with a parent who is a citizen")
	}
	pl := platformtest.Open(t, platformtest.Backends[0].Open(t))
	for _, tc := range []struct {
		name    string
		patient map[string]any
	}{{"adult", adult}, {"child", child}} {
		t.Run(tc.name, func(t *testing.T) {
			key := "Patient/" + tc.patient["id"].(string)
			params := []any{map[string]any{"name": "patient", "resource": strip(tc.patient, "id", "meta", "link")}}
			if rp, ok := sdm[key]; ok {
				params = append(params, map[string]any{"name": "substitute-decision-maker", "resource": strip(rp, "id", "meta", "period", "patient", "extension", "active")})
			}
			reg, err := registry.ParseRegistration(nil, map[string]any{"resourceType": "Parameters", "parameter": params})
			if err != nil {
				t.Fatal(err)
			}
			out, err := pl.Registry.Register(context.Background(), resource.Caller{Writer: "test"}, reg)
			if err != nil {
				t.Fatal(err)
			}
			same(t, "Patient", strip(tc.patient, "link"), out.Patient)
			same(t, "Consent", consents[key], read(t, pl.Service, "Consent", out.Consent))
			if out.SDM != "" {
				same(t, "RelatedPerson", sdm[key], read(t, pl.Service, "RelatedPerson", out.SDM))
				same(t, "CommunicationRequest", invitations[key], read(t, pl.Service, "CommunicationRequest", out.Invitation))
			} else if _, ok := sdm[key]; ok {
				t.Error("the registry made no SDM where the generator did")
			}
		})
	}
}

func read(t *testing.T, svc *resource.Service, typ, id string) map[string]any {
	t.Helper()
	v, err := svc.Read(context.Background(), resource.Caller{}, typ, id)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(v.Body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func strip(res map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for k, v := range res {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// same compares the shapes of two resources.
func same(t *testing.T, typ string, generated, stored map[string]any) {
	t.Helper()
	g, s := shape(generated, ""), shape(stored, "")
	if strings.Join(g, "\n") != strings.Join(s, "\n") {
		t.Errorf("%s: the generated shape differs from the registered one\ngenerated:\n%s\nregistered:\n%s", typ, strings.Join(g, "\n"), strings.Join(s, "\n"))
	}
}

// kept are the keys whose values are part of a shape: codes, systems,
// statuses and types.
var kept = map[string]bool{"system": true, "code": true, "url": true, "valueCode": true, "status": true,
	"resourceType": true, "use": true, "type": true, "uri": true, "valuePositiveInt": true}

// shape lists the paths of a resource's leaves, with the values of kept
// keys and the type of references; versionId and lastUpdated are left out.
func shape(node any, path string) []string {
	var out []string
	switch v := node.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "versionId" || k == "lastUpdated" || k == "id" {
				continue
			}
			out = append(out, shape(x, path+"."+k)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, shape(x, path+"[]")...)
		}
	default:
		last := path[strings.LastIndex(path, ".")+1:]
		switch s, _ := v.(string); {
		case kept[last]:
			b, _ := json.Marshal(v)
			out = append(out, path+"="+string(b))
		case last == "reference":
			typ, _, _ := strings.Cut(s, "/")
			out = append(out, path+"="+typ+"/…")
		default:
			out = append(out, path)
		}
	}
	sort.Strings(out)
	return out
}
