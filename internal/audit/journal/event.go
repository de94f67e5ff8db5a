package journal

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// event is what a journal entry's BALP AuditEvent (audit.AuditEvent) says,
// read back: who acted for which provider, what they did to which records,
// why, and how it ended.
type event struct {
	seq  int64
	time time.Time
	// user is the person behind the token ("Practitioner/1", "Patient/9",
	// "RelatedPerson/4"); "" for a system client or the operator.
	user     string
	operator bool   // the platform operator
	subject  string // the token's subject when it names no FHIR resource
	role     string // "PractitionerRole/7"
	org      string // "Organization/3": the provider acted for
	client   string // the OAuth client id
	agents   []string

	interaction string // a restful-interaction code
	resource    string // "Observation/12/_history/3", when an instance was touched
	query       string // the search as received, when it was one
	purposes    []string
	emergency   bool
	restricted  bool
	reason      string
	outcome     string
}

// parse reads the event of entry e.
func parse(e store.AuditEntry) (event, error) {
	res, err := fhir.Parse(e.Body)
	if err != nil {
		return event{}, outcome.Wrap(outcome.Internal, "journal: decode entry "+audit.EventID(e.Seq), err)
	}
	ev := event{seq: e.Seq, time: e.Time, outcome: str(res, "outcome")}
	if sub := list(res["subtype"]); len(sub) > 0 {
		ev.interaction = str(sub[0], "code")
	}
	for _, x := range list(res["extension"]) {
		switch str(x, "url") {
		case audit.EmergencyExtension:
			ev.emergency = get(x, "valueBoolean") == true
		case audit.RestrictedExtension:
			ev.restricted = get(x, "valueBoolean") == true
		case audit.ReasonExtension:
			ev.reason = str(x, "valueString")
		}
	}
	for _, p := range list(res["purposeOfEvent"]) {
		for _, c := range list(get(p, "coding")) {
			if code := str(c, "code"); code != "" && !slices.Contains(ev.purposes, code) {
				ev.purposes = append(ev.purposes, code)
			}
		}
	}
	for _, a := range list(res["agent"]) {
		ev.readAgent(a)
	}
	for _, en := range list(res["entity"]) {
		switch str(en, "role", "code") {
		case "4":
			ev.resource = str(en, "what", "reference")
		case "24":
			if q, err := base64.StdEncoding.DecodeString(str(en, "query")); err == nil {
				ev.query = string(q)
			}
		}
	}
	return ev, nil
}

// readAgent takes in one agent: the user, the provider or the client.
func (ev *event) readAgent(a any) {
	who := get(a, "who")
	if ref := refOf(who); ref != "" {
		ev.agents = append(ev.agents, ref)
	}
	var code string
	if c := list(get(a, "type", "coding")); len(c) > 0 {
		code = str(c[0], "code")
	}
	switch {
	case code == "UserOauthAgent":
		ev.user = refOf(who)
		if str(who, "identifier", "system") == audit.SubjectSystem {
			ev.subject = str(who, "identifier", "value")
			ev.operator = str(who, "display") == "platform operator"
		}
		for _, x := range list(get(a, "extension")) {
			if str(x, "url") == audit.RoleExtension {
				ev.role = str(x, "valueReference", "reference")
			}
		}
	case code == "PROV":
		ev.org = refOf(who)
	case str(who, "identifier", "system") == audit.ClientSystem:
		ev.client = str(who, "identifier", "value")
	}
}

// hasAgent reports whether ref ("Organization/3") took part.
func (ev event) hasAgent(ref string) bool { return slices.Contains(ev.agents, ref) }

// types are the resource types the event touched: the instance's, or the
// searched type's; whole is true for a Patient's $everything.
func (ev event) types() (types []string, whole bool) {
	if ev.resource != "" {
		typ, _, _ := strings.Cut(ev.resource, "/")
		return []string{typ}, false
	}
	path, q, _ := strings.Cut(ev.query, "?")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case strings.HasPrefix(segs[len(segs)-1], "$everything"):
		return nil, true
	case len(segs) >= 3 && segs[0] == "Patient": // compartment search
		return []string{segs[2]}, false
	case segs[0] != "":
		return []string{segs[0]}, false
	}
	if values, err := url.ParseQuery(q); err == nil && values.Get("_type") != "" { // a system search
		return strings.Split(values.Get("_type"), ","), false
	}
	return nil, false
}
