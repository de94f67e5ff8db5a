package notify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// deliverArgs is the job delivering one notice.
type deliverArgs struct {
	Communication string `json:"communication" river:"unique"`
}

// Kind names the job.
func (deliverArgs) Kind() string { return "notify_deliver" }

// InsertOpts makes the job unique by Communication id in every state but
// discarded and cancelled: however many sweeps on however many servers
// find the notice, it is sent by one job (a completed job's row is kept
// a day, covering any sweep that saw the notice before it was marked).
func (deliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueName, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// deliverWorker runs delivery jobs.
type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	w *Worker
}

// NextRetry is Config.Backoff after the job's failed attempts; the zero
// time (river's default policy) without one.
func (d *deliverWorker) NextRetry(job *river.Job[deliverArgs]) time.Time {
	if d.w.cfg.Backoff == nil {
		return time.Time{}
	}
	return time.Now().Add(d.w.cfg.Backoff(job.Attempt))
}

// progress is what earlier attempts delivered, kept with the job (a river
// resumable cursor) so a retry does not send again what already went:
// the note of each delivery done, by recipient and channel.
type progress struct {
	Done map[string]string `json:"done"`
}

// Work delivers the notice through every channel not yet done.
func (d *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	river.ResumableStepCursor(ctx, "deliver", nil, func(ctx context.Context, p progress) error {
		return d.w.deliver(ctx, job, p)
	})
	return nil // the step's error is the job's (river's resumable middleware)
}

// deliver makes one attempt at a notice.
func (w *Worker) deliver(ctx context.Context, job *river.Job[deliverArgs], p progress) error {
	id := job.Args.Communication
	n, err := w.readNotice(ctx, id)
	if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
		w.log.Warn("notify: notice gone before delivery", "communication", id)
		return nil
	}
	if err != nil {
		return err
	}
	if n.finished() {
		return nil
	}
	plan, err := w.plan(ctx, n)
	if err != nil {
		return err
	}
	if p.Done == nil {
		p.Done = map[string]string{}
	}
	var failures []error
	for _, s := range plan.sends {
		key := s.d.Recipient + " " + s.ch.Name()
		if _, ok := p.Done[key]; ok {
			continue
		}
		note, err := s.ch.Send(ctx, s.d)
		if err != nil {
			failures = append(failures, fmt.Errorf("%s to %s: %w", s.ch.Name(), s.d.Recipient, err))
			continue
		}
		p.Done[key] = note
		if err := river.ResumableSetCursor(ctx, p); err != nil {
			return fmt.Errorf("notify: Communication/%s: keep progress: %w", id, err)
		}
	}
	notes := append(doneNotes(p), plan.notes...)
	if len(failures) == 0 {
		return w.finish(ctx, id, "completed", "", notes)
	}
	return w.failed(ctx, job, errors.Join(failures...), notes)
}

// failed handles an attempt with failed sends: the notice is stopped when
// this was the last attempt or nothing failed that a retry could mend;
// otherwise the error goes back to river, which retries with backoff.
func (w *Worker) failed(ctx context.Context, job *river.Job[deliverArgs], err error, notes []string) error {
	id := job.Args.Communication
	permanent := allPermanent(err)
	if !permanent && job.Attempt < job.MaxAttempts {
		w.log.Warn("notify: delivery failed; will retry", "communication", id, "attempt", job.Attempt, "err", err)
		return err
	}
	reason := fmt.Sprintf("not delivered after %d attempt(s): %v", job.Attempt, err)
	if permanent {
		reason = fmt.Sprintf("not delivered: %v", err)
	}
	if ferr := w.finish(ctx, id, "stopped", reason, notes); ferr != nil {
		return fmt.Errorf("%w (and the notice could not be marked stopped: %v)", err, ferr)
	}
	w.log.Error("notify: notice stopped", "communication", id, "err", err)
	if permanent {
		return river.JobCancel(err)
	}
	return err
}

// allPermanent reports whether every failure joined in err is Permanent.
func allPermanent(err error) bool {
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		return isPermanent(err)
	}
	for _, e := range joined.Unwrap() {
		if !isPermanent(e) {
			return false
		}
	}
	return true
}

// doneNotes are the notes of the deliveries done, in a stable order.
func doneNotes(p progress) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(p.Done)) {
		if p.Done[k] != "" {
			out = append(out, p.Done[k])
		}
	}
	return out
}

// send is one delivery through one channel.
type send struct {
	ch Channel
	d  Delivery
}

// plan is what one notice needs: the sends, and notes on what could not
// be planned (a chosen channel without an address, or not offered here).
type plan struct {
	sends []send
	notes []string
}

// plan reads each recipient's choice and addresses.
func (w *Worker) plan(ctx context.Context, n notice) (plan, error) {
	var out plan
	now := w.cfg.Now()
	for _, r := range n.recipients {
		typ, id, _ := strings.Cut(r, "/")
		if typ != "Patient" && typ != "RelatedPerson" {
			out.notes = append(out.notes, fmt.Sprintf("%s is not a person the platform notifies", r))
			continue
		}
		person, err := w.read(ctx, typ, id)
		if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
			out.notes = append(out.notes, fmt.Sprintf("%s is not known", r))
			continue
		}
		if err != nil {
			return plan{}, err
		}
		channels := reachable(person.res, now)
		if typ == "Patient" {
			channels = Chosen(person.res)
		}
		for _, name := range channels {
			d := n.delivery(r)
			if name != ChannelApp {
				if d.Address = address(person.res, name, now); d.Address == "" {
					out.notes = append(out.notes, fmt.Sprintf("%s chose %s but has no %s on record", r, name, addressKind[name]))
					continue
				}
			}
			ch, ok := w.channels[name]
			if !ok {
				out.notes = append(out.notes, fmt.Sprintf("%s chose %s, which this server does not offer", r, name))
				continue
			}
			out.sends = append(out.sends, send{ch, d})
		}
	}
	return out, nil
}

// addressKind names what each channel needs, for notes.
var addressKind = map[string]string{ChannelSMS: "mobile number", ChannelEmail: "email address"}
