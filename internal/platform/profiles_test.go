package platform_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// TestGuideStored checks the implementation guide is in the store after
// start, as the platform's, and that a restart writes no new version.
func TestGuideStored(t *testing.T) {
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			st := b.Open(t)
			t.Cleanup(func() { st.Close() })
			start := time.Now()
			p := platformtest.OpenShared(t, st)
			t.Logf("first start %v", time.Since(start))
			ctx := t.Context()
			want := map[string]int64{}
			for _, r := range p.Profiles.Resources() {
				typ, id := r["resourceType"].(string), r["id"].(string)
				v, err := p.Service.Read(ctx, resource.Caller{}, typ, id)
				if err != nil {
					t.Fatalf("%s/%s not stored: %v", typ, id, err)
				}
				want[typ+"/"+id] = v.VersionID
			}
			if len(want) < 30 {
				t.Fatalf("only %d resources of the guide", len(want))
			}
			start = time.Now()
			again := platformtest.OpenShared(t, st)
			t.Logf("second start %v", time.Since(start))
			for key, ver := range want {
				typ, id, _ := strings.Cut(key, "/")
				v, err := again.Service.Read(ctx, resource.Caller{}, typ, id)
				if err != nil || v.VersionID != ver {
					t.Errorf("%s: version %d after a restart (%v), want %d", key, v.VersionID, err, ver)
				}
			}
		})
	}
}

// TestDeclaredProfileValidated checks a plain write declaring one of the
// guide's profiles is validated against it (422 with the element), and
// one declaring none keeps base R4 validation only.
func TestDeclaredProfileValidated(t *testing.T) {
	for _, b := range platformtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			p := platformtest.Open(t, b.Open(t))
			ctx := t.Context()
			obs := func(meta bool) map[string]any {
				o := map[string]any{"resourceType": "Observation", "status": "final",
					"code": map[string]any{"text": "weight"}, "effectiveDateTime": "2024-05-01"}
				if meta {
					o["meta"] = map[string]any{"profile": []any{"https://ehealth.hk/fhir/StructureDefinition/clinical-observation"}}
				}
				return o
			}
			_, err := p.Service.Create(ctx, resource.Caller{Writer: "test"}, "Observation", obs(true))
			var oe *outcome.Error
			if !errors.As(err, &oe) || oe.Kind != outcome.Unprocessable {
				t.Fatalf("write declaring the profile: %v, want 422", err)
			}
			found := false
			for _, is := range oe.Issues {
				if is.Expression == "Observation.subject" && is.Severity == "error" {
					found = true
				}
			}
			if !found {
				t.Errorf("no error at Observation.subject: %v", oe.Issues)
			}
			if _, err := p.Service.Create(ctx, resource.Caller{Writer: "test"}, "Observation", obs(false)); err != nil {
				t.Errorf("write declaring no profile: %v", err)
			}
		})
	}
}
