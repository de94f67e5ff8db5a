package audit

import (
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/token"
)

// Interaction is the audited FHIR RESTful interaction, a code of
// http://hl7.org/fhir/restful-interaction (AuditEvent.subtype).
type Interaction string

// The interactions the server audits.
const (
	Read            Interaction = "read"
	VRead           Interaction = "vread"
	Update          Interaction = "update"
	Patch           Interaction = "patch"
	Delete          Interaction = "delete"
	HistoryInstance Interaction = "history-instance"
	HistoryType     Interaction = "history-type"
	HistorySystem   Interaction = "history-system"
	Create          Interaction = "create"
	SearchType      Interaction = "search-type" // also compartment search and $everything
	SearchSystem    Interaction = "search-system"
	Batch           Interaction = "batch"
	Transaction     Interaction = "transaction"
	Operation       Interaction = "operation"
)

// action is AuditEvent.action for the interaction: R reads, C creates, U
// updates, D deletes, E executes (a search, per BALP, or an operation).
func (i Interaction) action() string {
	switch i {
	case Read, VRead, HistoryInstance, HistoryType, HistorySystem:
		return "R"
	case Create:
		return "C"
	case Update, Patch:
		return "U"
	case Delete:
		return "D"
	}
	return "E"
}

// Outcome is AuditEvent.outcome (http://hl7.org/fhir/audit-event-outcome).
type Outcome string

// The outcomes.
const (
	Success        Outcome = "0"  // the interaction succeeded
	MinorFailure   Outcome = "4"  // refused or not found: the request was at fault
	SeriousFailure Outcome = "8"  // the server failed
	MajorFailure   Outcome = "12" // the server became unavailable
)

// Caller is who made the request: the professional (or citizen) behind
// the access token, their role and provider, the client application, the
// token's id and the purpose of use.
type Caller struct {
	FHIRUser string // "Practitioner/1", "Patient/9", "RelatedPerson/4"; "" for a system client
	Role     string // "PractitionerRole/7": the professional's role at Org
	Org      string // "Organization/3": the provider acted for
	ClientID string // the OAuth client
	Subject  string // the token's sub
	TokenID  string // the token's jti: which grant of access was used
	Purpose  string // a v3 PurposeOfUse code from the token (TREAT, ETREAT …)
	Operator bool   // a platform-operator token
}

// CallerOf is the caller a verified access token names.
func CallerOf(c token.Claims) Caller {
	return Caller{FHIRUser: c.FHIRUser, Role: c.Role, Org: c.Org, ClientID: c.ClientID,
		Subject: c.Subject, TokenID: c.ID, Purpose: c.Purpose, Operator: c.Operator}
}

// Event is one audited interaction, as the HTTP and service layers see
// it. The Auditor turns it into BALP AuditEvents, one per patient.
type Event struct {
	Interaction Interaction
	// Time is when it happened (zero: when recorded).
	Time time.Time
	// Resource is what an instance interaction touched, as a relative
	// reference with the version read or written when known
	// ("Observation/12/_history/3"); a type ("Observation") for a type-level
	// interaction; "" for a system-level one.
	Resource string
	// Query is the search or history request as received, after the
	// base URL ("Observation?patient=9&code=…"): recorded base64-encoded
	// as BALP asks, so a malformed or hostile query is kept exactly.
	Query string
	// Patients are the ids of the patients whose data was returned,
	// written or asked for. Each gets an AuditEvent of their own (BALP
	// PatientQuery), so no patient's access history names another.
	Patients []string
	Outcome  Outcome // "" is Success
	// OutcomeDesc says why it failed, without health data ("404: not found").
	OutcomeDesc string
	Caller      Caller
	// Emergency marks a break-glass access; Restricted an opened
	// restricted record. Reason is the reason the professional gave.
	Emergency, Restricted bool
	Reason                string
	RequestID             string // X-Request-Id: ties the event to the server's logs
	ClientAddress         string // the client's network address (IP), if known
}

// Source is this server as an audit source: its FHIR base URL and name.
type Source struct {
	Base string // "https://ehealth.hk/fhir"
	Name string // the server (host) name, e.g. "ehealth-1"
}
