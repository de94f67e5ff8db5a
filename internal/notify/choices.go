package notify

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// OpNoticeChannels is the instance operation on Patient by which citizens
// choose how notices reach them: GET answers the current choice, POST a
// Parameters with a repeated "channel" (valueCode sms, email or app)
// replaces it. An empty POST goes back to the default, the app only.
const OpNoticeChannels = "$notice-channels"

// Choices offers $notice-channels to the FHIR API (rest.Operations). The
// choice is kept on the Patient (ChannelsExtension), written as a new
// version by the platform on the caller's behalf.
type Choices struct {
	svc Records
	now func() time.Time
}

// NewChoices returns the operation provider over svc.
func NewChoices(svc Records) *Choices { return &Choices{svc: svc, now: time.Now} }

// Names lists $notice-channels on Patient.
func (c *Choices) Names(typ string) []string {
	if typ != "Patient" {
		return nil
	}
	return []string{OpNoticeChannels}
}

// Run serves GET and POST Patient/{id}/$notice-channels for the citizen
// themself, their substitute decision maker (a token whose patient
// context is the citizen) or the operator. Anyone else in another
// patient's context is answered as if the Patient did not exist.
func (c *Choices) Run(ctx context.Context, who resource.Caller, typ, name string, instance map[string]any, query url.Values, body map[string]any) (map[string]any, error) {
	if typ != "Patient" || name != OpNoticeChannels {
		return nil, outcome.New(outcome.NotFound, "operation %q is not known on %s", name, typ)
	}
	if instance == nil {
		return nil, outcome.New(outcome.NotFound, "%s runs on a Patient: Patient/{id}/%s", name, name)
	}
	id, _ := instance["id"].(string)
	perm := scope.Read
	if body != nil {
		perm = scope.Update
	}
	if err := mayChoose(who, id, perm); err != nil {
		return nil, err
	}
	if body == nil {
		if len(query) > 0 {
			return nil, outcome.New(outcome.Invalid, "GET %s takes no parameters; POST a Parameters to choose", name)
		}
		p, err := c.read(ctx, id)
		if err != nil {
			return nil, err
		}
		return channelsResult(Chosen(p.res)), nil
	}
	chosen, err := c.choose(ctx, who, id, body)
	if err != nil {
		return nil, err
	}
	return channelsResult(chosen), nil
}

// mayChoose: the operator, or a token in the patient's context whose
// person is the citizen or their substitute decision maker (fhirUser a
// Patient — the citizen, or an SDM signed in as themself — or a
// RelatedPerson) and whose patient/ scopes allow perm on their Patient. A
// token in another patient's context learns nothing: the answer is the
// one for a Patient that does not exist. A professional launched in the
// citizen's context may not choose for them.
func mayChoose(c resource.Caller, patientID string, perm scope.Perm) error {
	if c.Grants == nil {
		return nil
	}
	if c.Grants.Patient == "" {
		return outcome.New(outcome.Forbidden, "only the citizen, their substitute decision maker or the operator chooses how notices reach a citizen")
	}
	if c.Grants.Patient != patientID {
		return outcome.New(outcome.NotFound, "Patient/%s is not known", patientID)
	}
	if who := c.Who.FHIRUser; !strings.HasPrefix(who, "Patient/") && !strings.HasPrefix(who, "RelatedPerson/") {
		return outcome.New(outcome.Forbidden, "only the citizen, their substitute decision maker or the operator chooses how notices reach a citizen")
	}
	if ok, filters := c.Grants.Scopes.Allows(scope.Patient, perm, "Patient"); !ok || filters != nil {
		return outcome.New(outcome.Forbidden, "the token's scopes do not allow %s on this Patient (patient/Patient.%s)", OpNoticeChannels, perm)
	}
	return nil
}

// chooseRetries bounds the writes of a choice racing other writers.
const chooseRetries = 5

// choose checks the requested channels against the Patient and stores them.
func (c *Choices) choose(ctx context.Context, who resource.Caller, id string, body map[string]any) ([]string, error) {
	requested, err := parseChannels(body)
	if err != nil {
		return nil, err
	}
	writer := resource.Caller{Writer: who.Writer}
	if writer.Writer == "" {
		writer.Writer = caller.Writer
	}
	for range chooseRetries {
		p, err := c.read(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := reachableAll(p.res, requested, c.now()); err != nil {
			return nil, err
		}
		channels := make([]string, len(requested))
		for i, r := range requested {
			channels[i] = r.code
		}
		if slices.Equal(Chosen(p.res), Chosen(withChoice(p.res, channels))) {
			return Chosen(p.res), nil
		}
		setChosen(p.res, channels)
		_, _, err = c.svc.Update(ctx, writer, "Patient", id, p.res, p.v.VersionID)
		if err == nil {
			return Chosen(p.res), nil
		}
		if !lostRace(err) {
			return nil, fmt.Errorf("notify: store notice channels of Patient/%s: %w", id, err)
		}
	}
	return nil, outcome.New(outcome.Conflict, "Patient/%s kept changing; try again", id)
}

// requestedChannel is one "channel" parameter and where it is.
type requestedChannel struct {
	code string
	path string // its FHIRPath, for errors
}

// parseChannels reads the "channel" parameters, collecting every problem.
func parseChannels(body map[string]any) ([]requestedChannel, error) {
	raw, ok := body["parameter"]
	if !ok {
		return nil, nil
	}
	items, ok := raw.([]any)
	if !ok {
		return nil, outcome.At(outcome.Invalid, "Parameters.parameter", "parameter must be a list")
	}
	var out []requestedChannel
	var issues []outcome.Issue
	bad := func(path, format string, args ...any) {
		issues = append(issues, outcome.Issue{Severity: outcome.SeverityError, Code: "value", Expression: path, Message: fmt.Sprintf(format, args...)})
	}
	for i, item := range items {
		path := fmt.Sprintf("Parameters.parameter[%d]", i)
		m, _ := item.(map[string]any)
		if name, _ := m["name"].(string); name != "channel" {
			bad(path+".name", "unknown parameter %q; %s takes only channel", name, OpNoticeChannels)
			continue
		}
		code, ok := m["valueCode"].(string)
		if !ok {
			bad(path+".valueCode", "channel is a code: one of %v", channelCodes)
			continue
		}
		if !slices.Contains(channelCodes, code) {
			bad(path+".valueCode", "unknown channel %q; choose among %v", code, channelCodes)
			continue
		}
		out = append(out, requestedChannel{code: code, path: path + ".valueCode"})
	}
	if len(issues) > 0 {
		return nil, &outcome.Error{Kind: outcome.Invalid, Op: OpNoticeChannels, Issues: issues}
	}
	return out, nil
}

// reachableAll checks that the Patient has an address for every channel
// requested.
func reachableAll(patient map[string]any, requested []requestedChannel, now time.Time) error {
	var issues []outcome.Issue
	for _, r := range requested {
		if r.code != ChannelApp && address(patient, r.code, now) == "" {
			issues = append(issues, outcome.Issue{Severity: outcome.SeverityError, Code: "business-rule", Expression: r.path,
				Message: fmt.Sprintf("%s needs a %s in Patient.telecom", r.code, addressKind[r.code])})
		}
	}
	if len(issues) > 0 {
		return &outcome.Error{Kind: outcome.Unprocessable, Op: OpNoticeChannels, Issues: issues}
	}
	return nil
}

// read reads Patient/id as the platform.
func (c *Choices) read(ctx context.Context, id string) (found, error) {
	v, err := c.svc.Read(ctx, caller, "Patient", id)
	if err != nil {
		return found{}, fmt.Errorf("notify: read Patient/%s: %w", id, err)
	}
	res, err := decode(v.Body)
	if err != nil {
		return found{}, fmt.Errorf("notify: Patient/%s: %w", id, err)
	}
	return found{v, res}, nil
}

// withChoice is a shallow copy of patient with channels chosen.
func withChoice(patient map[string]any, channels []string) map[string]any {
	cp := make(map[string]any, len(patient))
	for k, v := range patient {
		cp[k] = v
	}
	setChosen(cp, channels)
	return cp
}

// channelsResult is the operation's answer: a Parameters with a channel
// per channel chosen.
func channelsResult(channels []string) map[string]any {
	params := make([]any, len(channels))
	for i, ch := range channels {
		params[i] = map[string]any{"name": "channel", "valueCode": ch}
	}
	return map[string]any{"resourceType": "Parameters", "parameter": params}
}
