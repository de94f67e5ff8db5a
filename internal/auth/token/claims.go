package token

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
)

// Claims is what an access token says about its holder. The JSON claim
// names are in brackets; the registered ones follow RFC 9068 §2.2, fhirUser
// and patient follow SMART App Launch v2, org, role, purpose and operator
// are the platform's.
type Claims struct {
	Issuer    string    // [iss] the authorization server; Issue sets it from Config
	Audience  string    // [aud] the FHIR base URL the token is for; Issue sets it from Config
	Subject   string    // [sub] the user, or the client for a token with no user
	ClientID  string    // [client_id] the OAuth client the token was issued to
	Scope     scope.Set // [scope] the SMART scopes granted, space-separated in the token
	IssuedAt  time.Time // [iat]
	NotBefore time.Time // [nbf] zero: none
	Expiry    time.Time // [exp]
	ID        string    // [jti] unique per token
	// FHIRUser is the person behind the token: "Practitioner/123",
	// "Patient/9" or "RelatedPerson/4" [fhirUser].
	FHIRUser string
	// Org is the provider the caller acts for: "Organization/ID" [org].
	Org string
	// Role is the professional's role at Org: "PractitionerRole/ID" [role].
	Role string
	// Purpose is the purpose of use, a code of the v3 PurposeOfUse hierarchy
	// (TREAT, ETREAT, PATADMIN, PUBHLTH, HRESCH …) [purpose].
	Purpose string
	// Patient is the launch context patient's id (SMART's "patient") [patient].
	Patient string
	// Operator marks a platform-operator token [operator]. Only IssueOperator
	// sets it (see the package documentation).
	Operator bool
}

// wire is the JSON payload of a token.
type wire struct {
	Issuer    string           `json:"iss"`
	Audience  jwt.Audience     `json:"aud"`
	Subject   string           `json:"sub"`
	ClientID  string           `json:"client_id"`
	Scope     string           `json:"scope"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
	Expiry    *jwt.NumericDate `json:"exp"`
	ID        string           `json:"jti"`
	FHIRUser  string           `json:"fhirUser,omitempty"`
	Org       string           `json:"org,omitempty"`
	Role      string           `json:"role,omitempty"`
	Purpose   string           `json:"purpose,omitempty"`
	Patient   string           `json:"patient,omitempty"`
	Operator  bool             `json:"operator,omitempty"`
}

func (c Claims) wire() wire {
	return wire{
		Issuer: c.Issuer, Audience: jwt.Audience{c.Audience}, Subject: c.Subject,
		ClientID: c.ClientID, Scope: c.Scope.String(),
		IssuedAt: jwt.NewNumericDate(c.IssuedAt), NotBefore: jwt.NewNumericDate(c.NotBefore),
		Expiry: jwt.NewNumericDate(c.Expiry), ID: c.ID,
		FHIRUser: c.FHIRUser, Org: c.Org, Role: c.Role, Purpose: c.Purpose, Patient: c.Patient,
		Operator: c.Operator,
	}
}

// claims turns a verified payload into Claims; aud is the audience that
// was checked to be among the token's.
func (w wire) claims(aud string) (Claims, error) {
	set, err := scope.Parse(w.Scope)
	if err != nil {
		return Claims{}, fmt.Errorf("scope: %w", err)
	}
	return Claims{
		Issuer: w.Issuer, Audience: aud, Subject: w.Subject, ClientID: w.ClientID, Scope: set,
		IssuedAt: w.IssuedAt.Time().UTC(), NotBefore: w.NotBefore.Time().UTC(), Expiry: w.Expiry.Time().UTC(), ID: w.ID,
		FHIRUser: w.FHIRUser, Org: w.Org, Role: w.Role, Purpose: w.Purpose, Patient: w.Patient,
		Operator: w.Operator,
	}, nil
}

// fhirID is the FHIR id datatype (https://hl7.org/fhir/R4/datatypes.html#id).
const fhirID = `[A-Za-z0-9\-.]{1,64}`

var (
	fhirUserRef = regexp.MustCompile(`^(Practitioner|Patient|RelatedPerson)/` + fhirID + `$`)
	orgRef      = regexp.MustCompile(`^Organization/` + fhirID + `$`)
	roleRef     = regexp.MustCompile(`^PractitionerRole/` + fhirID + `$`)
	idPattern   = regexp.MustCompile(`^` + fhirID + `$`)
)

// Check reports the first way c breaks the platform's rules for a token's
// identity claims: the references' shapes, a known purpose of use, a role
// only for a practitioner at a provider, and the operator marker only on
// a token naming no person, provider, role or patient — and otherwise a
// person or a provider. Issue and Verify both apply it.
func (c Claims) Check() error {
	if c.Subject == "" || c.ClientID == "" {
		return fmt.Errorf("sub and client_id are required")
	}
	if c.Scope.String() == "" {
		return fmt.Errorf("scope: a token grants at least one scope")
	}
	if c.Operator {
		if c.FHIRUser != "" || c.Org != "" || c.Role != "" || c.Patient != "" {
			return fmt.Errorf("operator: an operator token names no fhirUser, org, role or patient")
		}
	} else if c.FHIRUser == "" && c.Org == "" {
		return fmt.Errorf("a token names a fhirUser or an org (only an operator token names neither)")
	}
	return c.checkRefs()
}

func (c Claims) checkRefs() error {
	switch {
	case c.FHIRUser != "" && !fhirUserRef.MatchString(c.FHIRUser):
		return fmt.Errorf("fhirUser %q: want Practitioner/ID, Patient/ID or RelatedPerson/ID", c.FHIRUser)
	case c.Org != "" && !orgRef.MatchString(c.Org):
		return fmt.Errorf("org %q: want Organization/ID", c.Org)
	case c.Role != "" && !roleRef.MatchString(c.Role):
		return fmt.Errorf("role %q: want PractitionerRole/ID", c.Role)
	case c.Role != "" && (c.Org == "" || !strings.HasPrefix(c.FHIRUser, "Practitioner/")):
		return fmt.Errorf("role %q: a role is a Practitioner's at an org; fhirUser %q, org %q", c.Role, c.FHIRUser, c.Org)
	case c.Patient != "" && !idPattern.MatchString(c.Patient):
		return fmt.Errorf("patient %q: want a FHIR id", c.Patient)
	case c.Purpose != "" && !IsPurposeOfUse(c.Purpose):
		return fmt.Errorf("purpose %q: not a v3 PurposeOfUse code (TREAT, ETREAT, PATADMIN, PUBHLTH, HRESCH …)", c.Purpose)
	}
	return nil
}
