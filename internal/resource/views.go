package resource

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Role-based views (DOMAIN.md, "People and organisations"; issue 7,
// need-to-know): a professional's role at a provider limits which kinds
// of records in a patient's record they see — a pharmacist the medication
// records and allergies, a laboratory technologist the requests, specimens
// and results. A view narrows what consent and the token's scopes already
// allow; it never widens them.
//
//   - A view is a set of resource types of the Patient compartment
//     (https://hl7.org/fhir/R4/compartmentdefinition-patient.html). The
//     Patient itself and resources in no compartment (Practitioner,
//     Organization, Medication, Location …) are in every view: they are
//     how a record is found and read, not its clinical content.
//   - Reading a resource of a type outside the view — read, vread,
//     instance history, a batch GET, an update or delete of it — answers
//     exactly as a missing resource (404 "X/id is not known"), so the view
//     tells nothing about whether such a record exists.
//   - Searching such a type (and _summary=count, a conditional write that
//     searches it, a chain or _has through it) is refused with 403: it is a
//     question about the type, which the role never sees for anybody, not
//     about the patient, so the answer reveals nothing about anyone.
//   - _include, _revinclude, $everything and the compartment search
//     Patient/x/* leave such types out.
//   - A role none of whose codes is configured sees everything. Denying by
//     default would lock out every role the configuration has not caught up
//     with (a new profession, a provider's local code), on a platform where
//     consent and need-to-know already decide which patients are seen; the
//     views are a further narrowing for the roles that have one.

//go:embed views.json
var defaultViewsJSON []byte

// RoleSystem is the platform's code system of professional roles, which a
// PractitionerRole.code may carry beside SNOMED CT occupation codes.
const RoleSystem = "https://ehealth.hk/fhir/CodeSystem/professional-role"

// View is which resource types of a patient's record a caller sees. The
// zero View sees everything.
type View struct {
	role  string          // the configured role it comes from, for messages
	types map[string]bool // compartment types seen; nil: every type
}

// All reports whether v sees every type.
func (v View) All() bool { return v.types == nil }

// Sees reports whether v shows resources of type typ.
func (v View) Sees(typ string) bool {
	return v.types == nil || typ == "Patient" || !fhir.IsInPatientCompartment(typ) || v.types[typ]
}

// Types lists the compartment types v sees, sorted; nil when it sees all.
func (v View) Types() []string {
	if v.types == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(v.types))
}

// list names what v sees, for messages.
func (v View) list() string {
	return "Patient, " + strings.Join(v.Types(), ", ") + " and resources in no patient's compartment"
}

// viewed are the interactions a view answers with 403 for a type outside
// it: questions about the type. The others reach one resource, whose
// visibility is decided on it (404).
var viewed = map[scope.Interaction]bool{
	scope.InteractionSearchType: true, scope.InteractionSearchSystem: true,
	scope.InteractionHistoryType: true, scope.InteractionHistorySystem: true,
}

// permits checks that interaction i on type typ is inside v: a search or
// type history of a type outside it is refused. "*" stands for every type
// (a _contained search may return containers of any type).
func (v View) permits(i scope.Interaction, typ string) error {
	if v.types == nil || !viewed[i] || typ == "" {
		return nil
	}
	switch {
	case typ == "*":
		return outcome.New(outcome.Forbidden, "a request that may return records of any type goes beyond what the role %s sees of a patient's record (%s)", v.role, v.list())
	case !v.Sees(typ):
		return outcome.New(outcome.Forbidden, "%s records are outside what the role %s sees of a patient's record (%s)", typ, v.role, v.list())
	}
	return nil
}

// Views maps professional roles, by their PractitionerRole.code codings,
// to the views they see: the platform's configuration (DefaultViews, or a
// file given to serve: LoadViews).
type Views struct {
	byCode map[string]View // "system|code" → view
}

// viewsFile is the JSON form of Views (views.json is the default).
type viewsFile struct {
	About string     `json:"about,omitempty"`
	Roles []roleFile `json:"roles"`
}

type roleFile struct {
	Name  string   `json:"name"`
	Codes []string `json:"codes"` // "system|code"
	Types []string `json:"types"` // resource types of the Patient compartment, or "*"
	Why   string   `json:"why,omitempty"`
}

// DefaultViews are the platform's built-in views (views.json): doctors,
// dentists, Chinese medicine practitioners, nurses and midwives see
// everything; pharmacists, dental hygienists, laboratory technologists and
// radiographers the types their work needs, each with its reason.
func DefaultViews() *Views {
	v, err := ParseViews(defaultViewsJSON)
	if err != nil {
		panic("resource: the built-in views.json is invalid: " + err.Error())
	}
	return v
}

// LoadViews reads views from a JSON file in the form of views.json. The
// file replaces the built-in views entirely: what it lists is the policy.
func LoadViews(path string) (*Views, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("role views: %w", err)
	}
	v, err := ParseViews(data)
	if err != nil {
		return nil, fmt.Errorf("role views %s: %w", path, err)
	}
	return v, nil
}

// ParseViews reads views in the JSON form of views.json. Every mistake is
// an error, so a typing slip cannot silently widen or narrow a role: an
// unknown field, a code not "system|code" or claimed by two roles, a type
// that is not a resource type of the Patient compartment.
func ParseViews(data []byte) (*Views, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f viewsFile
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	out := &Views{byCode: map[string]View{}}
	names := map[string]bool{}
	for _, r := range f.Roles {
		if r.Name == "" || names[r.Name] {
			return nil, fmt.Errorf("every role needs a name of its own (%q)", r.Name)
		}
		names[r.Name] = true
		view, err := parseRoleTypes(r)
		if err != nil {
			return nil, err
		}
		if len(r.Codes) == 0 {
			return nil, fmt.Errorf("role %s: no codes", r.Name)
		}
		for _, code := range r.Codes {
			system, c, ok := strings.Cut(code, "|")
			if !ok || system == "" || c == "" {
				return nil, fmt.Errorf("role %s: code %q: want system|code", r.Name, code)
			}
			if _, dup := out.byCode[code]; dup {
				return nil, fmt.Errorf("role %s: code %s is claimed by another role too", r.Name, code)
			}
			out.byCode[code] = view
		}
	}
	return out, nil
}

// parseRoleTypes is the view of one configured role.
func parseRoleTypes(r roleFile) (View, error) {
	if slices.Equal(r.Types, []string{"*"}) {
		return View{role: r.Name}, nil
	}
	v := View{role: r.Name, types: map[string]bool{}}
	for _, t := range r.Types {
		switch {
		case t == "*":
			return View{}, fmt.Errorf("role %s: \"*\" stands alone", r.Name)
		case !fhir.IsResourceType(t):
			return View{}, fmt.Errorf("role %s: %q is not a resource type", r.Name, t)
		case !fhir.IsInPatientCompartment(t):
			return View{}, fmt.Errorf("role %s: %s is in no patient's compartment; every role sees it", r.Name, t)
		}
		v.types[t] = true
	}
	return v, nil
}

// For is the view of a role carrying codes ("system|code"): the union of
// the views of its configured codes; codes the configuration does not name
// are ignored, and a role with none configured sees everything.
func (vs *Views) For(codes []string) View {
	var out View
	found := false
	for _, code := range codes {
		v, ok := vs.byCode[code]
		if !ok {
			continue
		}
		if v.types == nil {
			return v
		}
		if !found {
			out, found = View{role: v.role, types: map[string]bool{}}, true
		} else if !strings.Contains(out.role, v.role) {
			out.role += "+" + v.role
		}
		maps.Copy(out.types, v.types)
	}
	return out
}

// RoleViews finds the view of the role a token acts in: it reads the
// PractitionerRole as the platform, takes its codes and looks them up in
// the configuration. Views are cached by role for ttl, so a professional's
// requests cost one PractitionerRole read per ttl; a role whose codes
// change is seen changed after at most ttl (at once on the server that
// wrote it, when its Observe is wired as an observer of PractitionerRole).
type RoleViews struct {
	svc   *Service
	views *Views
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]cachedView // by PractitionerRole id
}

type cachedView struct {
	view    View
	expires time.Time
}

// maxCachedViews bounds the cache; past it the cache starts afresh.
const maxCachedViews = 10000

// NewRoleViews returns the views of roles read through svc; ttl <= 0
// means 30 seconds.
func NewRoleViews(svc *Service, views *Views, ttl time.Duration) *RoleViews {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	return &RoleViews{svc: svc, views: views, ttl: ttl, now: time.Now, cache: map[string]cachedView{}}
}

// View is the view of role ("PractitionerRole/ID"). A role the platform
// does not hold (never written, or deleted) is refused (403): the token
// acts in a role that is not there, and seeing everything would be the
// wrong way to fail.
func (rv *RoleViews) View(ctx context.Context, role string) (View, error) {
	id, ok := strings.CutPrefix(role, "PractitionerRole/")
	if !ok || id == "" {
		return View{}, outcome.New(outcome.Forbidden, "the token's role %q is not a PractitionerRole", role)
	}
	now := rv.now()
	rv.mu.Lock()
	c, hit := rv.cache[id]
	rv.mu.Unlock()
	if hit && now.Before(c.expires) {
		return c.view, nil
	}
	v, err := rv.svc.Read(ctx, Caller{}, "PractitionerRole", id)
	if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
		return View{}, outcome.New(outcome.Forbidden, "the token's role %s is not known to the platform", role)
	}
	if err != nil {
		return View{}, fmt.Errorf("role view of %s: %w", role, err)
	}
	view, err := rv.viewOf(v)
	if err != nil {
		return View{}, err
	}
	rv.mu.Lock()
	if len(rv.cache) >= maxCachedViews {
		clear(rv.cache)
	}
	rv.cache[id] = cachedView{view: view, expires: now.Add(rv.ttl)}
	rv.mu.Unlock()
	return view, nil
}

// viewOf is the view of a stored PractitionerRole.
func (rv *RoleViews) viewOf(v store.Version) (View, error) {
	res, err := fhir.Parse(v.Body)
	if err != nil {
		return View{}, fmt.Errorf("role view of PractitionerRole/%s: %w", v.ID, err)
	}
	return rv.views.For(roleCodes(res)), nil
}

// roleCodes lists a PractitionerRole's code codings as "system|code".
func roleCodes(res map[string]any) []string {
	var out []string
	concepts, _ := res["code"].([]any)
	for _, cc := range concepts {
		m, _ := cc.(map[string]any)
		codings, _ := m["coding"].([]any)
		for _, cd := range codings {
			coding, _ := cd.(map[string]any)
			system, _ := coding["system"].(string)
			code, _ := coding["code"].(string)
			if system != "" && code != "" {
				out = append(out, system+"|"+code)
			}
		}
	}
	return out
}

// Observe forgets the cached view of a PractitionerRole written on this
// server (resource.WithObserver(rv.Observe, "PractitionerRole")).
func (rv *RoleViews) Observe(_ context.Context, v store.Version) {
	rv.mu.Lock()
	delete(rv.cache, v.ID)
	rv.mu.Unlock()
}
