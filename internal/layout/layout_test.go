package layout

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/ehealthplus/ehealth/"

// allowed lists, for each internal package (by path prefix under
// internal/; the longest listed prefix applies), the internal packages its
// non-test code may import. Anything not listed is forbidden: dependencies
// point down, and only cmd/ and tests choose a storage driver.
var allowed = map[string][]string{
	"outcome":     {},
	"fhir":        {},
	"fhirpath":    {"fhir"},
	"terminology": {"fhir", "outcome"},
	"validate":    {"fhir", "fhirpath", "outcome", "terminology"},
	"search":      {"fhir", "fhirpath", "outcome", "terminology"},
	"identity":    {},
	"auth":        {"outcome", "store"},
	// The login reads citizens and professionals from the record and
	// parses the identity documents people type.
	"auth/login": {"identity", "outcome", "resource", "store"},
	"store":      {"outcome", "search"},
	"resource":   {"auth/scope", "fhir", "fhirpath", "outcome", "search", "store"},
	"rest":       {"audit", "auth/token", "bulkdata", "csvdeposit", "deposit", "fhir", "hl7v2", "identity", "notify", "outcome", "resource", "store"},
	"bulkload":   {"fhir", "outcome", "resource"},
	// Bulk Data export and import: export searches through the resource
	// service as the caller, import loads through bulkload; job state in
	// the keyed store.
	"bulkdata":    {"bulkload", "fhir", "outcome", "resource", "store"},
	"conformance": {"fhir", "outcome", "resource", "search", "store", "terminology"},
	"registry":    {"auth/scope", "auth/token", "fhir", "identity", "outcome", "resource", "search", "store"},
	"platform":    {"accreditation", "conformance", "consent", "correction", "csvdeposit", "deposit", "notify", "profile", "registry", "resource", "search", "store", "terminology", "validate"},
	"consent":     {"auth/scope", "notify", "outcome", "resource", "store"},
	"notify":      {"auth/scope", "outcome", "resource", "store"}, // auth/scope: the scopes of $notice-channels callers, as registry checks its own
	"audit":       {"auth/token", "fhir", "outcome", "store"},
	// The journal served to the people it concerns decides by who asks:
	// a citizen's keys and SDMs come from the registry, names and the
	// reported access's Task through the resource service, the notice
	// from notify; date parameters are read as search reads them.
	"audit/journal": {"auth/scope", "fhir", "notify", "outcome", "registry", "resource", "search", "store"},
	// The demo generator writes what the registry writes: its code
	// systems, tags and SDM ladder, and identity's documents.
	"demo": {"identity", "registry", "resource"},
	// HL7 v2 lab intake: HKIDs checked as identity does, UCUM units as
	// terminology does; the deposit is wired by cmd, not imported.
	"hl7v2": {"identity", "outcome", "terminology/ucum"},
	// The eHealth+ implementation guide: validation against profiles
	// reuses the FHIR model, FHIRPath (invariants, discriminators) and the
	// terminology service (bindings, expected code systems).
	"profile": {"fhir", "fhirpath", "outcome", "terminology"},
	// Deposit from clinical systems: the bundle's patients matched through
	// the registry, entries checked against the profiles, written by the
	// resource service.
	"deposit": {"auth/scope", "fhir", "identity", "outcome", "profile", "registry", "resource", "search", "store"},
	// Synthea bundles converted to deposit bundles (identity documents,
	// providers, source identifiers).
	"synthea": {"deposit", "fhir", "identity", "outcome", "registry"},
	// Connectivity accreditation: what a provider deposited, judged against
	// the profiles.
	"accreditation": {"auth/scope", "fhir", "outcome", "profile", "resource", "search", "store"},
	// Correction requests: a Task between the citizen and the depositing
	// provider, with notices.
	"correction": {"auth/scope", "fhir", "notify", "outcome", "registry", "resource", "search", "store"},
	// CSV templates for clinics with little IT, turned into deposit bundles.
	"csvdeposit": {"deposit", "fhir", "identity", "outcome", "profile", "terminology"},
	// The International Patient Summary: the record read as the caller
	// through the resource service, worded with the terminology service.
	"ips": {"auth/scope", "fhir", "outcome", "resource", "search", "store", "terminology"},
	// The web apps (web: the foundation; web/citizen, web/portal,
	// web/admin) are OAuth clients of the authorization server and call
	// the FHIR API's handler in-process with the person's token, so
	// consent, scopes, views and the audit journal apply to every page:
	// they never import the resource service, consent, audit, registry or
	// a storage driver. store is for store.Keyed only (sessions, sign-ins
	// under way, the apps' client keys); identity formats and checks the
	// documents people type.
	"web": {"auth/oauth", "identity", "outcome", "store"},
	// The operator console is the one app whose users no OAuth client may
	// act for: it signs operators in with their accounts (auth/login),
	// mints their short-lived operator tokens (auth/token, auth/scope) and
	// does what `ehealth admin` does through the same services — the
	// providers' registry (its writes journaled as the operator through
	// resource.AuditWrites), the OAuth client registry, the audit
	// journal's Verify; everything else goes through the FHIR API.
	"web/console": {"audit", "auth/login", "auth/oauth", "auth/ratelimit", "auth/scope", "auth/token", "identity", "outcome", "registry", "resource", "store"},
	// The provider portal checks CSV uploads with the templates' parser.
	"web/portal": {"auth/oauth", "csvdeposit", "identity", "outcome", "store"},
	"ops":        {},
	"bench":      {},
	"layout":     {},
}

func TestDependencyRules(t *testing.T) {
	root := ".." // internal/
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := strings.TrimPrefix(filepath.ToSlash(filepath.Dir(path)), "../")
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if !strings.HasPrefix(p, module) {
				continue
			}
			dep := strings.TrimPrefix(p, module)
			if !strings.HasPrefix(dep, "internal/") {
				t.Errorf("%s imports %s: internal packages never import cmd/", path, p)
				continue
			}
			if !mayImport(pkg, strings.TrimPrefix(dep, "internal/")) {
				t.Errorf("%s imports %s, which the dependency rules forbid", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// mayImport reports whether package pkg (relative to internal/) may import dep.
func mayImport(pkg, dep string) bool {
	top := strings.Split(pkg, "/")[0]
	if strings.HasSuffix(pkg, "test") && (dep == "store" || strings.HasPrefix(dep, "store/")) {
		return true // test-support packages (storetest, pgtest, platformtest) choose drivers as tests do
	}
	if strings.Split(dep, "/")[0] == top {
		return true // within one package tree: drivers, generators, helpers
	}
	for _, a := range rulesFor(pkg) {
		if dep == a {
			return true
		}
	}
	return false
}

// rulesFor returns the rules of the longest prefix of pkg in allowed.
func rulesFor(pkg string) []string {
	for p := pkg; ; {
		if rules, ok := allowed[p]; ok {
			return rules
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			return nil
		}
		p = p[:i]
	}
}
