package correction

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// task is what resolving reads of a correction request's Task.
type task struct {
	Status string    `json:"status"`
	Code   codeable  `json:"code"`
	Focus  reference `json:"focus"`
	For    reference `json:"for"`
	Owner  reference `json:"owner"`
	Req    reference `json:"requester"`
}

type reference struct {
	Reference string `json:"reference"`
}

type codeable struct {
	Coding []struct{ System, Code string } `json:"coding"`
}

// resolve serves POST Task/{id}/$resolve-correction: the owner's
// professionals and systems (or the operator) close an open correction
// request — amended with the later version of the record the provider
// wrote, answered, or rejected with a reason — and the citizen gets a
// notice, in one transaction.
func (o *Operations) resolve(ctx context.Context, c resource.Caller, id string, r Resolution) (map[string]any, error) {
	cur, err := o.svc.Read(ctx, platform, "Task", id)
	if err != nil {
		return nil, err
	}
	res, err := decode(cur)
	if err != nil {
		return nil, err
	}
	var t task
	data, _ := json.Marshal(res)
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, outcome.Wrap(outcome.Internal, "correction: read Task/"+id, err)
	}
	if !t.isRequest() {
		return nil, outcome.New(outcome.Unprocessable, "Task/%s is not a correction request", id)
	}
	if err := mayResolve(c, t.Owner.Reference); err != nil {
		return nil, err
	}
	if t.Status != "requested" && t.Status != "received" && t.Status != "accepted" && t.Status != "in-progress" {
		return nil, outcome.New(outcome.Conflict, "Task/%s was already resolved (%s)", id, t.Status)
	}
	if r.Outcome == OutcomeAmended {
		if err := o.checkAmendment(ctx, t, r.Amended); err != nil {
			return nil, err
		}
	}
	now := o.now().UTC()
	closeTask(res, r, now)
	patient := strings.TrimPrefix(t.For.Reference, "Patient/")
	var recipients []string
	if strings.HasPrefix(t.Req.Reference, "RelatedPerson/") {
		recipients = []string{"Patient/" + patient, t.Req.Reference}
	}
	notice := notify.Notice(KindResolved, patient, recipients, o.message(ctx, t, r), now)
	notice["about"] = []any{ref("Task/" + id)}
	out, err := o.svc.Transact(ctx, resource.Caller{Writer: t.Owner.Reference},
		resource.Write{Type: "Task", ID: id, Resource: res, IfMatch: cur.VersionID},
		resource.Write{Type: "Communication", ID: o.newID(), Resource: notice})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// isRequest reports whether t is coded as a correction request.
func (t task) isRequest() bool {
	for _, c := range t.Code.Coding {
		if c.System == TaskCodeSystem && c.Code == TaskCorrection {
			return true
		}
	}
	return false
}

// mayResolve: the operator (or the platform's own code), or a token acting
// for owner whose scopes let it update Tasks. The API read the Task as c,
// so c may see it: a refusal says why.
func mayResolve(c resource.Caller, owner string) error {
	if c.Grants == nil {
		return nil
	}
	if owner == "" || c.Who.Org != owner {
		return outcome.New(outcome.Forbidden, "only the provider the request went to (%s) resolves it", owner)
	}
	for _, ctx := range []scope.Context{scope.User, scope.System} {
		if ok, filters := c.Grants.Scopes.Allows(ctx, scope.Update, "Task"); ok && filters == nil {
			return nil
		}
	}
	return outcome.New(outcome.Forbidden, "%s needs a user/ or system/ scope granting Task update", OpResolve)
}

// checkAmendment: amended must be a later version of the request's focus,
// written by the provider the request went to, and not a withdrawal.
func (o *Operations) checkAmendment(ctx context.Context, t task, amended string) error {
	focusTyp, focusID, focusVer, ok := versioned(t.Focus.Reference)
	if !ok {
		return outcome.New(outcome.Internal, "the request's focus %q is not a versioned reference", t.Focus.Reference)
	}
	typ, id, ver, ok := versioned(amended)
	path := at("amended")
	switch {
	case !ok:
		return outcome.At(outcome.Invalid, path, "amended is a versioned reference, %s/%s/_history/n, not %q", focusTyp, focusID, amended)
	case typ != focusTyp || id != focusID:
		return outcome.At(outcome.Unprocessable, path, "%s is not a version of %s/%s, the record the request is about", amended, focusTyp, focusID)
	case ver <= focusVer:
		return outcome.At(outcome.Unprocessable, path, "%s is not later than the version flagged (%d): amend the record first", amended, focusVer)
	}
	v, err := o.svc.VRead(ctx, platform, typ, id, ver)
	if outcome.Is(err, outcome.NotFound) {
		return outcome.At(outcome.Unprocessable, path, "%s does not exist: amend the record first", amended)
	}
	if outcome.Is(err, outcome.Gone) || (err == nil && v.Deleted) {
		return outcome.At(outcome.Unprocessable, path, "%s withdrew the record; an amendment is a new version of it", amended)
	}
	if err != nil {
		return err
	}
	if v.Writer != t.Owner.Reference {
		return outcome.At(outcome.Unprocessable, path, "%s was not written by %s", amended, t.Owner.Reference)
	}
	return nil
}

// versioned splits "Type/id/_history/n".
func versioned(s string) (typ, id string, version int64, ok bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 4 || parts[2] != "_history" || parts[0] == "" || parts[1] == "" {
		return "", "", 0, false
	}
	n, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || n < 1 {
		return "", "", 0, false
	}
	return parts[0], parts[1], n, true
}

// closeTask sets res, a correction request's Task, to its resolution:
// completed (amended, answered) or rejected, the outcome as
// businessStatus, and as output the amending version or the text.
func closeTask(res map[string]any, r Resolution, now time.Time) {
	res["status"] = "completed"
	if r.Outcome == OutcomeRejected {
		res["status"] = "rejected"
		res["statusReason"] = map[string]any{"text": r.Text}
	}
	res["businessStatus"] = map[string]any{"coding": []any{map[string]any{"system": OutcomeSystem, "code": r.Outcome}}}
	res["lastModified"] = now.Format(time.RFC3339)
	outputType := func(code string) map[string]any {
		return map[string]any{"coding": []any{map[string]any{"system": OutcomeSystem, "code": code}}}
	}
	var outputs []any
	if r.Amended != "" {
		outputs = append(outputs, map[string]any{"type": outputType(OutcomeAmended), "valueReference": ref(r.Amended)})
	}
	if r.Text != "" {
		outputs = append(outputs, map[string]any{"type": outputType(r.Outcome), "valueString": r.Text})
	}
	res["output"] = outputs
}

// message is the notice telling the citizen the outcome, naming the
// provider.
func (o *Operations) message(ctx context.Context, t task, r Resolution) notify.Message {
	org := o.name(ctx, t.Owner.Reference)
	typ, _, _, _ := versioned(t.Focus.Reference)
	switch r.Outcome {
	case OutcomeAmended:
		return notify.Message{
			English: org + " has corrected your " + typ + " record as you asked. You can see the amended record and its earlier version in your eHealth record.",
			Chinese: org + "已按你的要求更正你的" + typ + "紀錄。你可在醫健通紀錄中查看更正後的紀錄及其先前版本。",
		}
	case OutcomeAnswered:
		return notify.Message{
			English: org + " has answered your correction request about your " + typ + " record: " + r.Text,
			Chinese: org + "已回覆你就" + typ + "紀錄提出的更正要求：" + r.Text,
		}
	}
	return notify.Message{
		English: org + " did not correct your " + typ + " record: " + r.Text + " You may contact the provider or the eHealth operator.",
		Chinese: org + "沒有更正你的" + typ + "紀錄：" + r.Text + " 你可聯絡該醫療服務提供者或醫健通營運者。",
	}
}

// name is an Organization's name for notices (its reference when it has
// none, or cannot be read).
func (o *Operations) name(ctx context.Context, reference string) string {
	v, err := o.svc.Read(ctx, platform, "Organization", strings.TrimPrefix(reference, "Organization/"))
	if err != nil {
		return reference
	}
	var org struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(v.Body, &org) != nil || org.Name == "" {
		return reference
	}
	return org.Name
}
