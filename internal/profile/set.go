package profile

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
)

// Base is the canonical base of the eHealth+ StructureDefinitions.
const Base = "https://ehealth.hk/fhir/StructureDefinition/"

// RecordTypeSystem codes the record types in the profiles' keyword.
const RecordTypeSystem = "https://ehealth.hk/fhir/CodeSystem/record-type"

// registryKeyword marks the registry's profiles (Patient, Organization,
// Practitioner, PractitionerRole): chosen by type, no record type.
const registryKeyword = "registry"

//go:embed snapshot/*.json ig/CodeSystem-*.json ig/ValueSet-*.json
var guide embed.FS

//go:embed expected-systems.json
var defaultExpected []byte

// Set is the eHealth+ implementation guide, compiled once: the profiles
// with their snapshots, and validation against them. It is immutable and
// safe for concurrent use.
type Set struct {
	codes     fhir.CodeChecker
	profiles  map[string]*profile   // by canonical URL
	byType    map[string][]*profile // the profiles chosen by resource type, selective ones first
	resources []map[string]any      // what the guide publishes
}

// Option configures Load.
type Option func(*options)

type options struct{ expected *ExpectedSystems }

// WithExpectedSystems replaces the embedded configuration of expected code
// systems (DefaultExpectedSystems).
func WithExpectedSystems(es *ExpectedSystems) Option { return func(o *options) { o.expected = es } }

// Load compiles the guide embedded in the binary. Bindings are checked
// through codes (the terminology service, which must hold the guide's own
// code systems and value sets, Terminology); with nil codes they are not.
func Load(codes fhir.CodeChecker, opts ...Option) (*Set, error) {
	o := options{expected: DefaultExpectedSystems()}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Set{codes: codes, profiles: map[string]*profile{}, byType: map[string][]*profile{}}
	sds, err := s.read()
	if err != nil {
		return nil, err
	}
	for _, sd := range sds {
		p, err := compile(sd)
		if err != nil {
			return nil, fmt.Errorf("profile: %s: %w", sd["url"], err)
		}
		s.profiles[p.url] = p
	}
	if err := s.link(o.expected); err != nil {
		return nil, err
	}
	return s, nil
}

// read reads the embedded snapshots and terminology.
func (s *Set) read() ([]map[string]any, error) {
	var sds []map[string]any
	err := fs.WalkDir(guide, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := guide.ReadFile(path)
		if err != nil {
			return err
		}
		res, err := decodeJSON(data)
		if err != nil {
			return fmt.Errorf("profile: %s: %w", path, err)
		}
		s.resources = append(s.resources, res)
		if res["resourceType"] == "StructureDefinition" {
			sds = append(sds, res)
		}
		return nil
	})
	return sds, err
}

func decodeJSON(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// link resolves what profiles say of each other (target and extension
// profiles), the expected systems, and the choice by type.
func (s *Set) link(es *ExpectedSystems) error {
	for _, p := range s.profiles {
		for _, n := range p.nodes {
			if len(n.targets) > 0 && !slices.Contains(n.targets, "http://hl7.org/fhir/StructureDefinition/Resource") {
				n.targetTypes = sortedTargets(n, s.profiles)
			}
			for _, u := range n.profiles {
				if s.profiles[u] == nil {
					return fmt.Errorf("profile: %s %s: profile %s is not in the guide", p.url, n.id, u)
				}
			}
		}
		if p.selectable {
			s.byType[p.typ] = append(s.byType[p.typ], p)
		}
	}
	bound, err := s.bindExpected(es)
	if err != nil {
		return err
	}
	for p, rules := range bound {
		p.expected = rules
	}
	for _, list := range s.byType {
		// selective profiles (those a category picks) are tried first
		slices.SortFunc(list, func(a, b *profile) int {
			if (a.selector == nil) != (b.selector == nil) {
				if a.selector != nil {
					return -1
				}
				return 1
			}
			return strings.Compare(a.url, b.url)
		})
		if n := len(list); list[n-1].selector != nil || (n > 1 && list[n-2].selector == nil) {
			return fmt.Errorf("profile: %s needs exactly one profile chosen without a category", list[0].typ)
		}
	}
	return nil
}

// bindExpected finds the profile of each entry of es, checking that each
// expression starts at the profile's type.
func (s *Set) bindExpected(es *ExpectedSystems) (map[*profile][]expectedRule, error) {
	out := map[*profile][]expectedRule{}
	for key, rules := range es.rules {
		p := s.profiles[key]
		if p == nil {
			p = s.profiles[Base+key]
		}
		if p == nil {
			return nil, fmt.Errorf("profile: expected systems for %q, which is not a profile of the guide", key)
		}
		for _, r := range rules {
			if head, _, _ := strings.Cut(r.path, "."); head != p.typ {
				return nil, fmt.Errorf("profile: expected systems of %s: %s does not start at %s", key, r.path, p.typ)
			}
		}
		out[p] = append(out[p], rules...)
	}
	return out, nil
}

// Resources returns the resources the guide publishes: every
// StructureDefinition with its snapshot, and its CodeSystems and
// ValueSets, as the platform stores and serves them. The maps are the
// caller's.
func (s *Set) Resources() []map[string]any {
	out := make([]map[string]any, len(s.resources))
	for i, r := range s.resources {
		out[i] = cloneJSON(r).(map[string]any)
	}
	return out
}

// Terminology returns the guide's CodeSystems and ValueSets, which the
// terminology service must hold for the bindings to them to be checked.
func (s *Set) Terminology() []map[string]any {
	var out []map[string]any
	for _, r := range s.Resources() {
		if r["resourceType"] != "StructureDefinition" {
			out = append(out, r)
		}
	}
	return out
}

// Has reports whether url (|version ignored) is a profile of the guide.
func (s *Set) Has(url string) bool {
	_, ok := s.profiles[canonical(url)]
	return ok
}

// Declared returns the first profile of the guide res declares in
// meta.profile, or "".
func (s *Set) Declared(res map[string]any) string {
	meta, _ := res["meta"].(map[string]any)
	list, _ := meta["profile"].([]any)
	for _, u := range list {
		if u, ok := u.(string); ok && s.Has(u) {
			return canonical(u)
		}
	}
	return ""
}

func canonical(url string) string {
	u, _, _ := strings.Cut(url, "|")
	return u
}

// cloneJSON deep-copies generic JSON.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = cloneJSON(x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = cloneJSON(x)
		}
		return l
	}
	return v
}
