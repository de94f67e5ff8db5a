package rest

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// identityInURL reports whether a search's query string carries an
// identity-document number (HKID, birth certificate, exemption
// certificate, passport) in an identifier parameter. URLs end up in
// proxies' and browsers' logs, so such lookups go by POST _search (a form
// body) or $match.
func identityInURL(params url.Values) bool {
	for name, values := range params {
		// The parameter a chain ends in, and its modifier: identifier,
		// subject:Patient.identifier, subject:identifier.
		last := name[strings.LastIndex(name, ".")+1:]
		param, modifier, _ := strings.Cut(last, ":")
		if param != "identifier" && modifier != "identifier" {
			continue
		}
		for _, v := range values {
			for _, one := range strings.Split(v, ",") {
				system, number, ok := strings.Cut(one, "|")
				if !ok {
					number = system
				}
				if ok && isIdentitySystem(system) {
					return true
				}
				if _, err := identity.Parse(identity.HKID, number, ""); (!ok || system == "") && err == nil {
					return true // an HKID without its system is still one
				}
			}
		}
	}
	return false
}

func isIdentitySystem(system string) bool {
	switch system {
	case identity.SystemHKID, identity.SystemBirthCertificate, identity.SystemExemptionCertificate:
		return true
	}
	return strings.HasPrefix(system, identity.SystemPassportPrefix)
}

// refuseIdentityInURL answers 400 to a GET search whose URL holds an
// identity-document number, and reports whether it did.
func (a *API) refuseIdentityInURL(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead || !identityInURL(r.URL.Query()) {
		return false
	}
	a.writeError(w, r, outcome.New(outcome.Invalid,
		"identity-document numbers are not accepted in URLs; search with POST [type]/_search (a form body) or Patient/$match"))
	return true
}
