package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// Records is what the worker needs of the resource service
// (*resource.Service): it reads, finds and updates notices and people as
// the platform, every change a normal versioned write.
type Records interface {
	Read(ctx context.Context, c resource.Caller, typ, id string) (store.Version, error)
	Search(ctx context.Context, c resource.Caller, typ string, params url.Values, opts resource.SearchOptions) (resource.SearchResult, error)
	Update(ctx context.Context, c resource.Caller, typ, id string, res map[string]any, ifMatch int64) (store.Version, bool, error)
}

// Config configures a Worker. Zero values take the defaults.
type Config struct {
	Queue Queue
	// Channels are the adapters notices go out through (SMS, Email); the
	// app channel is always there. A channel a citizen chose that is not
	// configured is noted on the Communication, not retried.
	Channels []Channel
	// Demo replaces every channel but the app with Demo: nothing leaves
	// the platform, and each Communication notes what would have been sent.
	Demo bool
	// Poll is how often pending notices are looked for (default 5 s;
	// river runs periodic jobs at most once a second). Kick looks at once.
	Poll time.Duration
	// Stale is how long a notice may stay in-progress untouched before it
	// is enqueued again, in case its job was lost (default 15 min; the
	// queue's uniqueness keeps a job still waiting from being doubled).
	Stale time.Duration
	// MaxAttempts is how many times a delivery is tried before the notice
	// is stopped (default 10).
	MaxAttempts int
	// Backoff is the wait after failed attempt n (1, 2, …); nil for
	// river's default, n⁴ seconds (1 s, 16 s, 81 s … about 3 h in all for 10).
	Backoff func(attempt int) time.Duration
	// FetchPoll is how often an idle worker asks the queue for jobs
	// (default 1 s; on PostgreSQL new jobs are also announced at once).
	FetchPoll time.Duration
	// Workers is how many deliveries run at once on this server (default 4).
	Workers int
	Logger  *slog.Logger
	Now     func() time.Time

	// testOnly sets river's TestOnly (export_test.go): its maintenance
	// services, the periodic jobs among them, start without a random delay.
	testOnly bool
}

// Worker is the delivery side of the outbox: a river periodic job finds
// the notices in status "preparation" and enqueues one delivery job per
// Communication (unique by its id, so two servers never send one twice),
// marking it "in-progress"; the delivery job sends it through each
// recipient's channels and marks it "completed", or after the last
// attempt "stopped" with the reason.
type Worker struct {
	svc      Records
	cfg      Config
	log      *slog.Logger
	channels map[string]Channel
	queue    jobs
	close    func()

	kick    chan struct{}
	stop    context.CancelFunc // ends Kick's loop and its sweep
	wg      sync.WaitGroup
	started bool
}

// caller is who the worker reads and writes as: the platform itself.
var caller = resource.Caller{Writer: "ehealth-notify"}

// New opens the job queue (creating river's tables) and returns a worker
// delivering the notices svc stores. Start starts it.
func New(ctx context.Context, svc Records, cfg Config) (*Worker, error) {
	cfg = withDefaults(cfg)
	w := &Worker{svc: svc, cfg: cfg, log: cfg.Logger, channels: map[string]Channel{ChannelApp: App{}},
		kick: make(chan struct{}, 1), stop: func() {}}
	for _, c := range cfg.Channels {
		w.channels[c.Name()] = c
	}
	if cfg.Demo {
		for _, name := range []string{ChannelSMS, ChannelEmail} {
			w.channels[name] = Demo{Channel: name}
		}
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(w.workSweep))
	river.AddWorker(workers, &deliverWorker{w: w})
	rc := &river.Config{
		Logger:            slog.New(quiet{cfg.Logger.Handler()}),
		Queues:            map[string]river.QueueConfig{queueName: {MaxWorkers: cfg.Workers}},
		Workers:           workers,
		FetchPollInterval: cfg.FetchPoll,
		FetchCooldown:     min(cfg.FetchPoll, 100*time.Millisecond),
		JobTimeout:        2 * time.Minute,
		TestOnly:          cfg.testOnly,
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cfg.Poll), func() (river.JobArgs, *river.InsertOpts) {
				return sweepArgs{}, nil
			}, &river.PeriodicJobOpts{ID: "notify_sweep", RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(cfg.Stale), func() (river.JobArgs, *river.InsertOpts) {
				return sweepArgs{Stale: true}, nil
			}, &river.PeriodicJobOpts{ID: "notify_sweep_stale"}),
		},
	}
	q, closeDB, err := openQueue(ctx, cfg.Queue, rc)
	if err != nil {
		return nil, err
	}
	w.queue, w.close = q, closeDB
	return w, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	cfg.Poll = max(cfg.Poll, time.Second)
	if cfg.Stale <= 0 {
		cfg.Stale = 15 * time.Minute
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.FetchPoll <= 0 {
		cfg.FetchPoll = time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// Start starts the worker: the periodic search for pending notices, the
// delivery jobs, and Kick's loop. It returns once the queue is running.
func (w *Worker) Start(ctx context.Context) error {
	if err := w.queue.Start(ctx); err != nil {
		return fmt.Errorf("notify: start queue: %w", err)
	}
	w.started = true
	kctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.stop = cancel
	w.wg.Add(1)
	go w.kicks(kctx)
	return nil
}

// Stop stops taking jobs, waits for the deliveries running (until ctx
// ends) and closes the queue's database. Call it once, after Start or
// instead of it.
func (w *Worker) Stop(ctx context.Context) error {
	w.stop()
	w.wg.Wait()
	var err error
	if w.started {
		err = w.queue.Stop(ctx)
	}
	w.close()
	if err != nil {
		return fmt.Errorf("notify: stop queue: %w", err)
	}
	return nil
}

// Kick looks for pending notices now rather than at the next poll: call
// it after writing one. It does not block; kicks during a search are
// folded into one more search.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// kicks runs a sweep for each Kick until Stop.
func (w *Worker) kicks(ctx context.Context) {
	defer w.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
			if err := w.sweep(ctx, false); err != nil && ctx.Err() == nil {
				w.log.Error("notify: sweep on kick", "err", err)
			}
		}
	}
}

// sweepArgs is the periodic job looking for notices to enqueue: pending
// ones, or (Stale) in-progress ones untouched for Config.Stale.
type sweepArgs struct {
	Stale bool `json:"stale"`
}

// Kind names the job.
func (sweepArgs) Kind() string { return "notify_sweep" }

// InsertOpts keeps at most one sweep of each sort waiting or running; a
// failed sweep is not retried, the next one does its work.
func (sweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueName, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}}
}

// workSweep runs a sweep job.
func (w *Worker) workSweep(ctx context.Context, job *river.Job[sweepArgs]) error {
	return w.sweep(ctx, job.Args.Stale)
}

// sweepPages bounds the pages one sweep goes through; the next sweep
// carries on.
const sweepPages = 20

// sweep enqueues a delivery for each notice found, page by page.
func (w *Worker) sweep(ctx context.Context, stale bool) error {
	q := url.Values{"category": {KindSystem + "|"}, "status": {"preparation"}, "_count": {"100"}}
	if stale {
		q.Set("status", "in-progress")
		q.Set("_lastUpdated", "lt"+w.cfg.Now().Add(-w.cfg.Stale).UTC().Format(time.RFC3339))
	}
	cursor := ""
	for range sweepPages {
		res, err := w.svc.Search(ctx, caller, "Communication", q, resource.SearchOptions{Strict: true, Cursor: cursor})
		if err != nil {
			return fmt.Errorf("notify: search notices: %w", err)
		}
		for _, v := range res.Matches {
			if err := w.enqueue(ctx, v, stale); err != nil {
				return err
			}
		}
		if res.Next == "" {
			return nil
		}
		cursor = res.Next
	}
	return nil
}

// enqueue inserts the delivery job of notice v, then marks it in-progress.
// In that order: a crash between the two leaves it in preparation, and the
// next sweep's insert is skipped as a duplicate before it is marked. The
// mark is written if-match v's version, so a sweep on another server, or
// the delivery that already finished, wins and this one steps back.
func (w *Worker) enqueue(ctx context.Context, v store.Version, stale bool) error {
	res, err := w.queue.Insert(ctx, deliverArgs{Communication: v.ID}, &river.InsertOpts{MaxAttempts: w.cfg.MaxAttempts})
	if err != nil {
		return fmt.Errorf("notify: enqueue Communication/%s: %w", v.ID, err)
	}
	if stale {
		if !res.UniqueSkippedAsDuplicate {
			w.log.Warn("notify: notice in progress without a job was enqueued again", "communication", v.ID)
		}
		return nil
	}
	body, err := decode(v.Body)
	if err != nil {
		return fmt.Errorf("notify: Communication/%s: %w", v.ID, err)
	}
	body["status"] = "in-progress"
	if _, _, err := w.svc.Update(ctx, caller, "Communication", v.ID, body, v.VersionID); err != nil && !lostRace(err) {
		return fmt.Errorf("notify: mark Communication/%s in progress: %w", v.ID, err)
	}
	return nil
}

// lostRace reports whether a write failed because another wrote first.
func lostRace(err error) bool {
	return outcome.Is(err, outcome.PreconditionFailed) || outcome.Is(err, outcome.Conflict)
}

// quiet passes on only warnings and errors: river reports its producers'
// job counts at info level every few seconds, which would drown the
// server's own log.
type quiet struct{ slog.Handler }

func (q quiet) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && q.Handler.Enabled(ctx, l)
}

func (q quiet) WithAttrs(as []slog.Attr) slog.Handler { return quiet{q.Handler.WithAttrs(as)} }

func (q quiet) WithGroup(name string) slog.Handler { return quiet{q.Handler.WithGroup(name)} }
