package console

import (
	"net/url"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// noticeKindSystem codes the notices' kinds (notify.KindSystem).
const noticeKindSystem = "https://ehealth.hk/fhir/CodeSystem/notice-kind"

// outboxStatuses are the Communication statuses of the notification
// outbox, in the order a notice goes through them.
var outboxStatuses = []string{"preparation", "in-progress", "completed", "stopped"}

// notice is a row of the outbox.
type notice struct {
	ID, Kind, When, Reason string
	Recipients             int
	Notes                  []string
}

// statusCount is a tab of the outbox.
type statusCount struct {
	Status  string
	Count   int
	Current bool
}

// outbox lists the notices in one status (?status=, preparation by
// default), newest first, with the count in each.
func (con *console) outbox(c *web.Ctx) error {
	ctx := c.R.Context()
	status := c.R.URL.Query().Get("status")
	if status == "" {
		status = "preparation"
	}
	var tabs []statusCount
	known := false
	for _, s := range outboxStatuses {
		b, err := c.FHIR.Search(ctx, "Communication", url.Values{"category": {noticeKindSystem + "|"}, "status": {s}, "_summary": {"count"}})
		if err != nil {
			return err
		}
		tabs = append(tabs, statusCount{Status: s, Count: max(b.Total, 0), Current: s == status})
		known = known || s == status
	}
	if !known {
		return outcome.At(outcome.Invalid, "status", "console: no outbox status %q", status)
	}
	b, err := c.FHIR.Search(ctx, "Communication", url.Values{"category": {noticeKindSystem + "|"}, "status": {status},
		"_sort": {"-_lastUpdated"}, "_count": {"50"}})
	if err != nil {
		return err
	}
	var list []notice
	for _, r := range b.Matches {
		n := notice{ID: web.Str(r, "id"), When: web.Str(r, "sent"), Reason: web.Display(web.Get(r, "statusReason")),
			Recipients: len(web.List(r, "recipient"))}
		if n.When == "" {
			n.When = web.Str(r, "meta", "lastUpdated")
		}
		for _, cat := range web.List(r, "category") {
			if web.Str(cat, "coding", 0, "system") == noticeKindSystem {
				n.Kind = keyOr(c, "notice."+web.Str(cat, "coding", 0, "code"), "notice.other")
			}
		}
		for _, note := range web.List(r, "note") {
			n.Notes = append(n.Notes, web.Str(note, "text"))
		}
		list = append(list, n)
	}
	return c.Render("outbox", map[string]any{"Tabs": tabs, "Status": status, "Notices": list})
}

// requeue puts a stopped notice back in the outbox: status preparation
// (the delivery worker's sweep takes it again; its delivery job, once
// discarded or cancelled, no longer blocks a new one), the reason it
// stopped kept in a note with who re-queued it.
func (con *console) requeue(c *web.Ctx) error {
	ctx, id := c.R.Context(), c.R.PathValue("id")
	if !idPattern.MatchString(id) {
		return outcome.New(outcome.NotFound, "console: no notice %q", id)
	}
	r, err := c.FHIR.Read(ctx, "Communication", id)
	if err != nil {
		return err
	}
	if web.Str(r, "status") != "stopped" {
		return outcome.New(outcome.Conflict, "console: Communication/%s is %s, not stopped", id, web.Str(r, "status"))
	}
	text := "Re-queued by " + strings.TrimPrefix(c.Session.FHIRUser, "Operator/")
	if reason := web.Display(web.Get(r, "statusReason")); reason != "" {
		text += " after it stopped: " + reason
	}
	r["note"] = append(web.List(r, "note"), map[string]any{"text": text, "time": time.Now().UTC().Format(time.RFC3339)})
	r["status"] = "preparation"
	delete(r, "statusReason")
	if _, err := c.FHIR.Update(ctx, r); err != nil {
		return err
	}
	c.Flash("ok", "outbox.requeued")
	return c.Redirect("outbox?status=stopped")
}

// keyOr is key when the catalogue has it, else fallback: codes from
// stored records (a notice's kind, a Task's status) that the console has
// no words for show as "other" rather than as a missing message.
func keyOr(c *web.Ctx, key, fallback string) string {
	if _, ok := c.App.Messages()[c.Lang][key]; ok {
		return key
	}
	return fallback
}
