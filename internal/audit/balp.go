package audit

import (
	"encoding/base64"
	"encoding/json"
	"time"
)

// The AuditEvent an Event becomes follows IHE BALP (Basic Audit Log
// Patterns, https://profiles.ihe.net/ITI/BALP/): type rest, the
// interaction as subtype, agents for the user (from the OAuth token:
// OAUTHaccessTokenUse), the client and this server, this server as the
// source, and entities for the request id, the resource or query, and the
// patient. Successful events claim the matching BALP profiles (which fix
// the outcome to success).

// Code systems and profiles used.
const (
	balpProfile      = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit."
	balpUserAgent    = "https://profiles.ihe.net/ITI/BALP/CodeSystem/UserAgentTypes"
	balpEntityType   = "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType"
	eventTypeSystem  = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	interactionSys   = "http://hl7.org/fhir/restful-interaction"
	dicomSystem      = "http://dicom.nema.org/resources/ontology/DCM"
	roleClassSystem  = "http://terminology.hl7.org/CodeSystem/v3-RoleClass"
	entityTypeSystem = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	objectRoleSystem = "http://terminology.hl7.org/CodeSystem/object-role"
	sourceTypeSystem = "http://terminology.hl7.org/CodeSystem/security-source-type"
	actReasonSystem  = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	confidentiality  = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"

	// The platform's own definitions.
	base = "https://ehealth.hk/fhir/"
	// EmergencyExtension (valueBoolean) marks a break-glass access.
	EmergencyExtension = base + "StructureDefinition/audit-emergency-access"
	// RestrictedExtension (valueBoolean) marks an opened restricted record.
	RestrictedExtension = base + "StructureDefinition/audit-restricted-access"
	// ReasonExtension (valueString) is the reason the professional gave.
	ReasonExtension = base + "StructureDefinition/audit-access-reason"
	// RoleExtension (valueReference) on the user agent names the
	// professional's PractitionerRole.
	RoleExtension = base + "StructureDefinition/audit-agent-role"
	// ClientSystem identifies OAuth clients by client_id.
	ClientSystem = base + "oauth-client"
	// SubjectSystem identifies a token's subject when it names no FHIR resource.
	SubjectSystem = base + "token-subject"
)

type coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

type concept struct {
	Coding []coding `json:"coding"`
}

type identifier struct {
	System string `json:"system,omitempty"`
	Value  string `json:"value"`
}

type reference struct {
	Reference  string      `json:"reference,omitempty"`
	Identifier *identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

type extension struct {
	URL            string     `json:"url"`
	ValueBoolean   *bool      `json:"valueBoolean,omitempty"`
	ValueString    string     `json:"valueString,omitempty"`
	ValueReference *reference `json:"valueReference,omitempty"`
}

type network struct {
	Address string `json:"address"`
	Type    string `json:"type"` // 2 IP address, 5 URI
}

type agent struct {
	Extension    []extension `json:"extension,omitempty"`
	Type         *concept    `json:"type,omitempty"`
	Who          *reference  `json:"who,omitempty"`
	Requestor    bool        `json:"requestor"`
	Policy       []string    `json:"policy,omitempty"`
	Network      *network    `json:"network,omitempty"`
	PurposeOfUse []concept   `json:"purposeOfUse,omitempty"`
}

type source struct {
	Site     string    `json:"site,omitempty"`
	Observer reference `json:"observer"`
	Type     []coding  `json:"type"`
}

type entity struct {
	What          *reference `json:"what,omitempty"`
	Type          *coding    `json:"type,omitempty"`
	Role          *coding    `json:"role,omitempty"`
	SecurityLabel []coding   `json:"securityLabel,omitempty"`
	Query         string     `json:"query,omitempty"`
}

type meta struct {
	Profile []string `json:"profile"`
}

type auditEvent struct {
	ResourceType   string      `json:"resourceType"`
	Meta           *meta       `json:"meta,omitempty"`
	Extension      []extension `json:"extension,omitempty"`
	Type           coding      `json:"type"`
	Subtype        []coding    `json:"subtype"`
	Action         string      `json:"action"`
	Recorded       string      `json:"recorded"`
	Outcome        string      `json:"outcome"`
	OutcomeDesc    string      `json:"outcomeDesc,omitempty"`
	PurposeOfEvent []concept   `json:"purposeOfEvent,omitempty"`
	Agent          []agent     `json:"agent"`
	Source         source      `json:"source"`
	Entity         []entity    `json:"entity,omitempty"`
}

// instant is the FHIR instant form of t, to the microsecond, in UTC.
const instant = "2006-01-02T15:04:05.000000Z07:00"

// AuditEvent returns the BALP AuditEvent JSON of e about one patient
// (patient "" for an event about none), as recorded by src. e.Time must be
// set.
func AuditEvent(e Event, patient string, src Source) ([]byte, error) {
	outcome := e.Outcome
	if outcome == "" {
		outcome = Success
	}
	ev := auditEvent{
		ResourceType: "AuditEvent",
		Extension:    flags(e),
		Type:         coding{System: eventTypeSystem, Code: "rest", Display: "Restful Operation"},
		Subtype:      []coding{{System: interactionSys, Code: string(e.Interaction), Display: string(e.Interaction)}},
		Action:       e.Interaction.action(),
		Recorded:     e.Time.UTC().Format(instant),
		Outcome:      string(outcome),
		OutcomeDesc:  e.OutcomeDesc,
		Agent:        agents(e, src),
		Source: source{Site: src.Name, Observer: reference{Identifier: &identifier{Value: src.Base}, Display: src.Name},
			Type: []coding{{System: sourceTypeSystem, Code: "4", Display: "Application Server"}}},
		Entity: entities(e, patient),
	}
	if p := purposes(e); len(p) > 0 {
		ev.PurposeOfEvent = p
	}
	if outcome == Success {
		ev.Meta = &meta{Profile: profiles(e, patient)}
	}
	return json.Marshal(ev)
}

// profiles are the BALP profiles a successful event conforms to.
func profiles(e Event, patient string) []string {
	var name string
	switch e.Interaction.action() {
	case "R":
		name = "Read"
	case "C":
		name = "Create"
	case "U":
		name = "Update"
	case "D":
		name = "Delete"
	default:
		if e.Query == "" {
			return oauthProfile(e, nil)
		}
		name = "Query"
	}
	if patient != "" {
		name = "Patient" + name
	}
	return oauthProfile(e, []string{balpProfile + name})
}

func oauthProfile(e Event, list []string) []string {
	if e.Caller.TokenID != "" && userWho(e.Caller) != nil {
		list = append(list, balpProfile+"OAUTHaccessTokenUse.Minimal")
	}
	if list == nil {
		list = []string{}
	}
	return list
}

func flags(e Event) []extension {
	yes := true
	var ext []extension
	if e.Emergency {
		ext = append(ext, extension{URL: EmergencyExtension, ValueBoolean: &yes})
	}
	if e.Restricted {
		ext = append(ext, extension{URL: RestrictedExtension, ValueBoolean: &yes})
	}
	if e.Reason != "" {
		ext = append(ext, extension{URL: ReasonExtension, ValueString: e.Reason})
	}
	return ext
}

// purposes is the purpose of use: the token's, and break-the-glass for an
// emergency access.
func purposes(e Event) []concept {
	var list []concept
	if e.Caller.Purpose != "" {
		list = append(list, concept{Coding: []coding{{System: actReasonSystem, Code: e.Caller.Purpose}}})
	}
	if e.Emergency && e.Caller.Purpose != "BTG" {
		list = append(list, concept{Coding: []coding{{System: actReasonSystem, Code: "BTG", Display: "break the glass"}}})
	}
	return list
}

// agents are the user (the person behind the token, or the operator), the
// provider acted for, the client application and this server. BALP has
// the client as the "Destination Role ID" of a read (data flows to it) and
// the "Source Role ID" of anything else (the request flows from it).
func agents(e Event, src Source) []agent {
	var list []agent
	if who := userWho(e.Caller); who != nil {
		u := agent{
			Type:      &concept{Coding: []coding{{System: balpUserAgent, Code: "UserOauthAgent", Display: "User OAuth Agent participant"}}},
			Who:       who,
			Requestor: true,
		}
		if e.Caller.TokenID != "" {
			u.Policy = []string{e.Caller.TokenID}
		}
		if e.Caller.Role != "" {
			u.Extension = []extension{{URL: RoleExtension, ValueReference: &reference{Reference: e.Caller.Role}}}
		}
		u.PurposeOfUse = purposes(e)
		list = append(list, u)
	}
	if e.Caller.Org != "" {
		list = append(list, agent{
			Type:      &concept{Coding: []coding{{System: roleClassSystem, Code: "PROV", Display: "healthcare provider"}}},
			Who:       &reference{Reference: e.Caller.Org},
			Requestor: e.Caller.FHIRUser == "",
		})
	}
	clientRole, serverRole := roleID("110153", "Source Role ID"), roleID("110152", "Destination Role ID")
	if e.Interaction.action() == "R" {
		clientRole, serverRole = serverRole, clientRole
	}
	clientID := e.Caller.ClientID
	if clientID == "" {
		clientID = "unknown" // FHIR strings are never empty
	}
	client := agent{Type: clientRole, Who: &reference{Identifier: &identifier{System: ClientSystem, Value: clientID}}}
	if e.ClientAddress != "" {
		client.Network = &network{Address: e.ClientAddress, Type: "2"}
	}
	server := agent{Type: serverRole, Who: &reference{Identifier: &identifier{Value: src.Base}, Display: src.Name},
		Network: &network{Address: src.Base, Type: "5"}}
	return append(list, client, server)
}

func roleID(code, display string) *concept {
	return &concept{Coding: []coding{{System: dicomSystem, Code: code, Display: display}}}
}

// userWho is the user agent's who: the fhirUser, or the token's subject
// for an operator; nil for a system client acting for a provider.
func userWho(c Caller) *reference {
	switch {
	case c.FHIRUser != "":
		return &reference{Reference: c.FHIRUser}
	case c.Operator || (c.Org == "" && c.Subject != ""):
		display := ""
		if c.Operator {
			display = "platform operator"
		}
		return &reference{Identifier: &identifier{System: SubjectSystem, Value: c.Subject}, Display: display}
	}
	return nil
}

// entities are the request id, the resource or the query, and the patient.
func entities(e Event, patient string) []entity {
	var list []entity
	if e.RequestID != "" {
		list = append(list, entity{What: &reference{Identifier: &identifier{Value: e.RequestID}},
			Type: &coding{System: balpEntityType, Code: "XrequestId"}})
	}
	var labels []coding
	if e.Restricted {
		labels = []coding{{System: confidentiality, Code: "R", Display: "restricted"}}
	}
	if e.Query != "" {
		list = append(list, entity{Type: &coding{System: entityTypeSystem, Code: "2", Display: "System Object"},
			Role: &coding{System: objectRoleSystem, Code: "24", Display: "Query"}, SecurityLabel: labels,
			Query: base64.StdEncoding.EncodeToString([]byte(e.Query))})
	} else if e.Resource != "" {
		list = append(list, entity{What: &reference{Reference: e.Resource},
			Type:          &coding{System: entityTypeSystem, Code: "2", Display: "System Object"},
			Role:          &coding{System: objectRoleSystem, Code: "4", Display: "Domain Resource"},
			SecurityLabel: labels})
	}
	if patient != "" {
		list = append(list, entity{What: &reference{Reference: "Patient/" + patient},
			Type: &coding{System: entityTypeSystem, Code: "1", Display: "Person"},
			Role: &coding{System: objectRoleSystem, Code: "1", Display: "Patient"}})
	}
	return list
}

// recorded is e's time, now if it has none, to the microsecond in UTC.
func recorded(e Event, now time.Time) time.Time {
	if e.Time.IsZero() {
		e.Time = now
	}
	return e.Time.UTC().Truncate(time.Microsecond)
}
