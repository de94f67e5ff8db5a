package oauth

import (
	"strings"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
)

// smartScopeStrategy is fosite's scope check. It accepts any well-formed
// SMART scope: what is granted is decided here, not by fosite — the
// request narrowed to the client's registration (scope.Narrow), so asking
// patient/*.rs of a client registered for patient/Observation.rs is not an
// error but grants patient/Observation.rs, and asking for an unregistered
// scope drops it. A request left with nothing is refused (invalid_scope).
func smartScopeStrategy(_ []string, needle string) bool {
	if strings.ContainsRune(needle, ' ') {
		return false
	}
	_, err := scope.Parse(needle)
	return err == nil
}

// scopeList splits a set into the scope tokens fosite grants one by one.
func scopeList(set scope.Set) []string { return strings.Fields(set.String()) }

// hasPatientScopes reports whether set holds any patient/ scope: those
// need a patient in the launch context.
func hasPatientScopes(set scope.Set) bool {
	for _, sc := range set.Scopes() {
		if sc.Context == scope.Patient {
			return true
		}
	}
	return false
}
