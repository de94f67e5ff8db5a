package notify_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/resource"
)

const (
	mobile = "+852 9123 4567"
	email  = "tai.man@example.hk"
)

// TestDeliveredOnChosenChannels: a notice written in preparation is
// picked up, sent through exactly the channels each recipient chose (a
// RelatedPerson: what its telecom reaches) and marked completed with
// sent, every status change a version of its own.
func TestDeliveredOnChosenChannels(t *testing.T) {
	cases := []struct {
		name      string
		patient   person
		sdm       *person // a RelatedPerson recipient besides the patient
		wantSMS   []string
		wantEmail []string
		wantNote  string // a note the Communication must carry
	}{
		{name: "default is the app only", patient: person{mobile: mobile, email: email}},
		{name: "sms", patient: person{mobile: mobile, email: email, chosen: []string{"sms"}}, wantSMS: []string{mobile},
			wantNote: "sent by SMS to Patient/"},
		{name: "sms and email", patient: person{mobile: mobile, email: email, chosen: []string{"sms", "email"}},
			wantSMS: []string{mobile}, wantEmail: []string{email}, wantNote: "sent by email to Patient/"},
		{name: "chosen but the number is gone", patient: person{email: email, chosen: []string{"sms"}},
			wantNote: "chose sms but has no mobile number on record"},
		{name: "sdm reached by its telecom", patient: person{mobile: mobile}, sdm: &person{mobile: "+852 6000 0001", email: "mei.ling@example.hk"},
			wantSMS: []string{"+852 6000 0001"}, wantEmail: []string{"mei.ling@example.hk"}, wantNote: "sent by SMS to RelatedPerson/"},
	}
	forEachBackend(t, func(t *testing.T, e *env) {
		w := e.worker(nil)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e.t = t
				smsBefore, _ := e.sms.received()
				mailBefore := e.mail.received()
				p := e.patient(tc.patient)
				recipients := []string{"Patient/" + p}
				if tc.sdm != nil {
					recipients = []string{"RelatedPerson/" + e.relatedPerson(p, *tc.sdm)}
				}
				id := e.notice(p, recipients...)
				w.Kick()
				c := e.await(id, 10*time.Second)
				if c["status"] != "completed" {
					t.Fatalf("status %v, want completed: %v", c["status"], c)
				}
				if sent, _ := c["sent"].(string); sent == "" {
					t.Error("completed without sent")
				}
				msgs, _ := e.sms.received()
				var to []string
				for _, m := range msgs[len(smsBefore):] {
					to = append(to, m.To)
					if m.Reference != "Communication/"+id || !strings.Contains(m.Text, "opened your record") || !strings.Contains(m.Text, "九龍診所") {
						t.Errorf("sms %+v: want the notice's reference and both languages", m)
					}
				}
				if !slices.Equal(to, tc.wantSMS) {
					t.Errorf("sms to %v, want %v", to, tc.wantSMS)
				}
				var rcpt []string
				for _, m := range e.mail.received()[len(mailBefore):] {
					rcpt = append(rcpt, m.To)
					if !strings.Contains(m.Data, "X-Ehealth-Reference: Communication/"+id) || !strings.Contains(m.Data, "Subject: =?utf-8?q?") {
						t.Errorf("email without the notice's reference or an encoded subject:\n%s", m.Data)
					}
				}
				if !slices.Equal(rcpt, tc.wantEmail) {
					t.Errorf("email to %v, want %v", rcpt, tc.wantEmail)
				}
				if tc.wantNote != "" && !slices.ContainsFunc(notes(c), func(n string) bool { return strings.Contains(n, tc.wantNote) }) {
					t.Errorf("notes %q, want one containing %q", notes(c), tc.wantNote)
				}
				st := e.statuses(id)
				if st[0] != "preparation" || st[len(st)-1] != "completed" || len(st) > 3 || (len(st) == 3 && st[1] != "in-progress") {
					t.Errorf("versions' statuses %v, want preparation[, in-progress], completed", st)
				}
			})
		}
	})
}

// TestDemoModeKeepsNoticesInOutbox: in demo mode nothing reaches the
// gateway or the mail server; each notice is completed with a note of
// what would have been sent, and an ordinary search finds them all.
func TestDemoModeKeepsNoticesInOutbox(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		w := e.worker(func(c *notify.Config) { c.Demo = true })
		p := e.patient(person{mobile: mobile, email: email, chosen: []string{"sms", "email"}})
		ids := []string{e.notice(p), e.notice(p)}
		w.Kick()
		for _, id := range ids {
			c := e.await(id, 10*time.Second)
			if c["status"] != "completed" {
				t.Fatalf("status %v, want completed", c["status"])
			}
			want := []string{
				"demo outbox: kept here instead of sending by email to " + email + " (Patient/" + p + ")",
				"demo outbox: kept here instead of sending by sms to " + mobile + " (Patient/" + p + ")",
			}
			if got := notes(c); !slices.Equal(got, want) {
				t.Errorf("notes %q, want %q", got, want)
			}
		}
		if msgs, _ := e.sms.received(); len(msgs) != 0 {
			t.Errorf("demo mode sent %d SMS", len(msgs))
		}
		if m := e.mail.received(); len(m) != 0 {
			t.Errorf("demo mode sent %d emails", len(m))
		}
		res, err := e.svc.Search(t.Context(), resource.Caller{}, "Communication",
			url.Values{"category": {notify.KindSystem + "|" + notify.KindFirstAccess}, "subject": {"Patient/" + p}}, resource.SearchOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Matches) != len(ids) {
			t.Errorf("the operator's search finds %d notices, want %d", len(res.Matches), len(ids))
		}
	})
}

// TestFailingChannelRetriedWithBackoff: the gateway fails twice, then
// takes the message; the worker waits at least the backoff between
// attempts, the email that went on the first attempt is not sent again,
// and the notice ends completed.
func TestFailingChannelRetriedWithBackoff(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		e.sms.failWith(func(n int) int {
			if n <= 2 {
				return 503
			}
			return 0
		})
		w := e.worker(nil)
		p := e.patient(person{mobile: mobile, email: email, chosen: []string{"sms", "email"}})
		id := e.notice(p)
		w.Kick()
		c := e.await(id, 15*time.Second)
		if c["status"] != "completed" {
			t.Fatalf("status %v, want completed: %v", c["status"], c["statusReason"])
		}
		msgs, at := e.sms.received()
		if len(msgs) != 3 {
			t.Fatalf("the gateway was called %d times, want 3 (two failures, one success)", len(msgs))
		}
		for i := 1; i < len(at); i++ {
			if gap, min := at[i].Sub(at[i-1]), testBackoff(i); gap < min {
				t.Errorf("attempt %d came %v after attempt %d, want at least the backoff %v", i+1, gap, i, min)
			}
		}
		if m := e.mail.received(); len(m) != 1 {
			t.Errorf("%d emails sent, want 1: a retry must not resend what already went", len(m))
		}
		if !slices.ContainsFunc(notes(c), func(n string) bool { return strings.HasPrefix(n, "sent by email") }) {
			t.Errorf("notes %q lost the email sent on the first attempt", notes(c))
		}
	})
}

// TestPermanentFailureStops: a notice that cannot be delivered is
// stopped with the reason — after the last attempt when the gateway
// keeps failing, at once when it refuses the message outright.
func TestPermanentFailureStops(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		attempts  int
		wantCalls int
		reason    []string
	}{
		{"retries exhausted", 503, 3, 3, []string{"after 3 attempt(s)", "HTTP 503"}},
		{"refused outright", 400, 5, 1, []string{"not delivered:", "HTTP 400"}},
	}
	forEachBackend(t, func(t *testing.T, e *env) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e.t = t
				e.sms = newGateway(t)
				e.sms.failWith(func(int) int { return tc.status })
				w := e.worker(func(c *notify.Config) { c.MaxAttempts = tc.attempts })
				p := e.patient(person{mobile: mobile, chosen: []string{"sms"}})
				id := e.notice(p)
				w.Kick()
				c := e.await(id, 15*time.Second)
				if c["status"] != "stopped" {
					t.Fatalf("status %v, want stopped", c["status"])
				}
				reason, _ := c["statusReason"].(map[string]any)["text"].(string)
				for _, want := range tc.reason {
					if !strings.Contains(reason, want) {
						t.Errorf("statusReason %q, want it to mention %q", reason, want)
					}
				}
				time.Sleep(300 * time.Millisecond) // a wrongly scheduled retry would call again
				if msgs, _ := e.sms.received(); len(msgs) != tc.wantCalls {
					t.Errorf("the gateway was called %d times, want %d", len(msgs), tc.wantCalls)
				}
			})
		}
	})
}

// TestTwoWorkersDeliverOnce: two servers' workers over one database
// sweep the same notices at the same time; each is sent exactly once.
func TestTwoWorkersDeliverOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		p := e.patient(person{mobile: mobile, chosen: []string{"sms"}})
		var ids []string
		for range 12 {
			ids = append(ids, e.notice(p))
		}
		a, b := e.worker(nil), e.worker(nil)
		a.Kick()
		b.Kick()
		for _, id := range ids {
			if c := e.await(id, 20*time.Second); c["status"] != "completed" {
				t.Fatalf("Communication/%s %v, want completed", id, c["status"])
			}
		}
		time.Sleep(500 * time.Millisecond) // a duplicate job would still be running
		msgs, _ := e.sms.received()
		seen := map[string]int{}
		for _, m := range msgs {
			seen[m.Reference]++
		}
		for _, id := range ids {
			if n := seen["Communication/"+id]; n != 1 {
				t.Errorf("Communication/%s sent %d times, want once", id, n)
			}
		}
		if len(msgs) != len(ids) {
			t.Errorf("%d SMS for %d notices", len(msgs), len(ids))
		}
	})
}

// TestPeriodicSweep: without a Kick, river's periodic job finds pending
// notices; and a notice left in-progress without a job (its queue lost)
// is enqueued again once stale.
func TestPeriodicSweep(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		p := e.patient(person{mobile: mobile, chosen: []string{"sms"}})
		pending := e.notice(p)
		lost := e.notice(p)
		n := e.read("Communication", lost)
		n["status"] = "in-progress"
		if _, _, err := e.svc.Update(t.Context(), operator, "Communication", lost, n, 1); err != nil {
			t.Fatal(err)
		}
		e.worker(func(c *notify.Config) { c.Stale = time.Second })
		for _, id := range []string{pending, lost} {
			if c := e.await(id, 15*time.Second); c["status"] != "completed" {
				t.Errorf("Communication/%s %v, want completed", id, c["status"])
			}
		}
		if msgs, _ := e.sms.received(); len(msgs) != 2 {
			t.Errorf("%d SMS, want 2", len(msgs))
		}
	})
}
