package console

import (
	"context"
	"net/url"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// The Tasks the operator works through (consent.TaskEmergencyReview and
// journal.TaskAccessReport, in their task-code system).
const (
	taskCodeSystem  = "https://ehealth.hk/fhir/CodeSystem/task-code"
	emergencyReview = "emergency-access-review"
	accessReport    = "access-report"
)

// task is a review or report as the console shows it, in plain words.
type task struct {
	ID, Status, Authored string
	Patient              string // the citizen's name
	Who, Where           string // the professional and provider (emergency), the provider reported (report)
	Reason, Until        string // emergency: the reason given and the access's end
	Text, Comment, Event string // report: what was reported (as recorded), the citizen's comment, the AuditEvent
	Outcome              string // a closed review's finding
}

// tasks searches Tasks of code in status (comma-separated), newest first.
func tasks(c *web.Ctx, code, status string) ([]web.Resource, error) {
	q := url.Values{"code": {taskCodeSystem + "|" + code}, "_sort": {"-authored-on"}, "_count": {"50"}}
	if status != "" {
		q.Set("status", status)
	}
	b, err := c.FHIR.Search(c.R.Context(), "Task", q)
	if err != nil {
		return nil, err
	}
	return b.Matches, nil
}

// names reads the display names of references (Patient, Practitioner,
// Organization), once each; one that cannot be read shows as its
// reference.
type names struct {
	c    *web.Ctx
	seen map[string]string
}

func (n *names) of(ref string) string {
	if ref == "" {
		return ""
	}
	if s, ok := n.seen[ref]; ok {
		return s
	}
	typ, id, _ := strings.Cut(ref, "/")
	s := ref
	if r, err := n.c.FHIR.Read(n.c.R.Context(), typ, id); err == nil {
		if typ == "Organization" {
			s = web.Str(r, "name")
		} else if name := web.FormatName(n.c.Lang, web.List(r, "name")); name != "" {
			s = name
		}
	}
	n.seen[ref] = s
	return s
}

// taskOf reads a Task into words.
func taskOf(ctx context.Context, c *web.Ctx, n *names, r web.Resource) task {
	t := task{ID: web.Str(r, "id"), Status: keyOr(c, "review."+web.Str(r, "status"), "review.other"), Authored: web.Str(r, "authoredOn"),
		Patient: n.of(web.Str(r, "for", "reference")), Reason: web.Str(r, "reasonCode", "text"),
		Text: web.Str(r, "description"), Outcome: web.Str(r, "output", 0, "valueString")}
	switch focus := web.Str(r, "focus", "reference"); {
	case strings.HasPrefix(focus, "AuditEvent/"):
		t.Event = strings.TrimPrefix(focus, "AuditEvent/")
		t.Where = n.of(web.Str(r, "owner", "reference"))
		t.Comment = web.Str(r, "note", 0, "text")
	case strings.HasPrefix(focus, "Consent/"):
		t.Who = n.of(web.Str(r, "requester", "reference"))
		for _, note := range web.List(r, "note") {
			if org, ok := strings.CutPrefix(web.Str(note, "text"), "provider: "); ok {
				t.Where = n.of(org)
			}
		}
		if cons, err := c.FHIR.Read(ctx, "Consent", strings.TrimPrefix(focus, "Consent/")); err == nil {
			t.Until = web.Str(cons, "provision", "period", "end")
		}
	}
	return t
}

// emergencyList shows the emergency accesses waiting for review and the
// ones reviewed.
func (con *console) emergencyList(c *web.Ctx) error {
	return con.taskList(c, emergencyReview, "emergency")
}

// reports shows the accesses citizens reported.
func (con *console) reports(c *web.Ctx) error {
	return con.taskList(c, accessReport, "reports")
}

func (con *console) taskList(c *web.Ctx, code, page string) error {
	open, err := tasks(c, code, "requested")
	if err != nil {
		return err
	}
	closed, err := tasks(c, code, "completed,rejected,cancelled,in-progress")
	if err != nil {
		return err
	}
	n := &names{c: c, seen: map[string]string{}}
	var o, d []task
	for _, r := range open {
		o = append(o, taskOf(c.R.Context(), c, n, r))
	}
	for _, r := range closed {
		d = append(d, taskOf(c.R.Context(), c, n, r))
	}
	return c.Render(page, map[string]any{"Open": o, "Done": d})
}

// readTask reads Task/{id} of code.
func readTask(c *web.Ctx, code string) (web.Resource, error) {
	id := c.R.PathValue("id")
	if !idPattern.MatchString(id) {
		return nil, outcome.New(outcome.NotFound, "console: no task %q", id)
	}
	r, err := c.FHIR.Read(c.R.Context(), "Task", id)
	if err != nil {
		return nil, err
	}
	if web.Str(r, "code", "coding", 0, "code") != code {
		return nil, outcome.New(outcome.NotFound, "console: Task/%s is not a %s", id, code)
	}
	return r, nil
}

// emergency shows one emergency access and, while it waits, the review
// form.
func (con *console) emergency(c *web.Ctx) error {
	r, err := readTask(c, emergencyReview)
	if err != nil {
		return err
	}
	return c.Render("review", taskOf(c.R.Context(), c, &names{c: c, seen: map[string]string{}}, r))
}

// review closes an emergency access review (Task/{id}/$review): justified
// (completed) or not (rejected), with what the operator found.
func (con *console) review(c *web.Ctx) error {
	r, err := readTask(c, emergencyReview)
	if err != nil {
		return err
	}
	status := c.Form("status")
	if status != "completed" && status != "rejected" {
		return outcome.At(outcome.Invalid, "status", "console: a review finds the access justified or not")
	}
	params := web.Resource{"resourceType": "Parameters", "parameter": []any{
		map[string]any{"name": "outcome", "valueString": c.Form("outcome")},
		map[string]any{"name": "status", "valueCode": status},
	}}
	if _, err := c.FHIR.Operation(c.R.Context(), "Task/"+web.Str(r, "id")+"/$review", params); err != nil {
		return err
	}
	c.Flash("ok", "review.done")
	return c.Redirect("emergency")
}

// report shows one reported access.
func (con *console) report(c *web.Ctx) error {
	r, err := readTask(c, accessReport)
	if err != nil {
		return err
	}
	return c.Render("report", taskOf(c.R.Context(), c, &names{c: c, seen: map[string]string{}}, r))
}
