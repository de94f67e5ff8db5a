package notify_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/platform/platformtest"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/store/postgres"
	"github.com/ehealthplus/ehealth/internal/store/postgres/pgtest"
	"github.com/ehealthplus/ehealth/internal/store/sqlite"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// backend opens a fresh store and says where its job queue goes, as
// serve would: PostgreSQL's own database, or a file beside SQLite's.
type backend struct {
	name string
	open func(t *testing.T) (store.Store, notify.Queue)
}

var backends = []backend{
	{"sqlite", func(t *testing.T) (store.Store, notify.Queue) {
		path := filepath.Join(t.TempDir(), "test.db")
		st, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return st, notify.Queue{SQLite: notify.SQLiteQueuePath(path)}
	}},
	{"postgres", func(t *testing.T) (store.Store, notify.Queue) {
		dsn := pgtest.DSN(t)
		st, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return st, notify.Queue{Postgres: dsn}
	}},
}

// env is the platform over one backend, with a fake SMS gateway and a
// fake mail server standing in for the world outside.
type env struct {
	t     *testing.T
	st    store.Store
	svc   *resource.Service
	queue notify.Queue
	sms   *gateway
	mail  *mailServer
}

// forEachBackend runs fn on a fresh env on SQLite and PostgreSQL.
func forEachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st, q := b.open(t)
			p := platformtest.Open(t, st)
			fn(t, &env{t: t, st: st, svc: p.Service, queue: q, sms: newGateway(t), mail: newMailServer(t)})
		})
	}
}

// operator is the caller the test writes as.
var operator = resource.Caller{Writer: "test"}

// testBackoff is the retry wait the tests use: 100 ms, 200 ms, 400 ms …
func testBackoff(attempt int) time.Duration { return 100 * time.Millisecond << (attempt - 1) }

// worker starts a worker over the env's store with the fakes as its
// channels and short intervals; tweak adjusts the configuration.
func (e *env) worker(tweak func(*notify.Config)) *notify.Worker {
	e.t.Helper()
	cfg := notify.Config{
		Queue:     e.queue,
		Channels:  []notify.Channel{&notify.SMS{URL: e.sms.URL()}, &notify.Email{Addr: e.mail.addr, From: "eHealth+ <notices@ehealth.test>"}},
		Poll:      time.Second,
		FetchPoll: 50 * time.Millisecond,
		Backoff:   testBackoff,
	}
	notify.ForTests(&cfg)
	if tweak != nil {
		tweak(&cfg)
	}
	w, err := notify.New(e.t.Context(), e.svc, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := w.Start(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.Stop(ctx); err != nil {
			e.t.Errorf("stop worker: %v", err)
		}
	})
	return w
}

// person is a Patient or RelatedPerson's telecom and choice.
type person struct {
	mobile, email string
	chosen        []string // the notice-channels extension's codes
}

// telecom is the person's ContactPoints.
func (p person) telecom() []any {
	var out []any
	if p.mobile != "" {
		out = append(out, map[string]any{"system": "sms", "value": p.mobile})
	}
	if p.email != "" {
		out = append(out, map[string]any{"system": "email", "value": p.email})
	}
	return out
}

// patient creates a Patient and returns its id.
func (e *env) patient(p person) string {
	e.t.Helper()
	res := map[string]any{"resourceType": "Patient", "name": []any{map[string]any{"family": "CHAN", "given": []any{"Tai Man"}}}}
	if t := p.telecom(); t != nil {
		res["telecom"] = t
	}
	var ext []any
	for _, c := range p.chosen {
		ext = append(ext, map[string]any{"url": notify.ChannelsExtension, "valueCode": c})
	}
	if ext != nil {
		res["extension"] = ext
	}
	return e.create("Patient", res)
}

// relatedPerson creates an SDM of patient and returns its id.
func (e *env) relatedPerson(patient string, p person) string {
	e.t.Helper()
	res := map[string]any{"resourceType": "RelatedPerson", "patient": map[string]any{"reference": "Patient/" + patient},
		"name": []any{map[string]any{"family": "CHAN", "given": []any{"Mei Ling"}}}}
	if t := p.telecom(); t != nil {
		res["telecom"] = t
	}
	return e.create("RelatedPerson", res)
}

// notice writes a notice about patient, as the event's writer would.
func (e *env) notice(patient string, recipients ...string) string {
	e.t.Helper()
	n := notify.Notice(notify.KindFirstAccess, patient, recipients,
		notify.Message{English: "Kowloon Clinic opened your record.", Chinese: "九龍診所查閱了你的紀錄。"}, time.Now())
	return e.create("Communication", n)
}

func (e *env) create(typ string, res map[string]any) string {
	e.t.Helper()
	v, err := e.svc.Create(e.t.Context(), operator, typ, res)
	if err != nil {
		e.t.Fatalf("create %s: %v", typ, err)
	}
	return v.ID
}

// read reads typ/id as the operator.
func (e *env) read(typ, id string) map[string]any {
	e.t.Helper()
	v, err := e.svc.Read(e.t.Context(), operator, typ, id)
	if err != nil {
		e.t.Fatalf("read %s/%s: %v", typ, id, err)
	}
	var res map[string]any
	if err := json.Unmarshal(v.Body, &res); err != nil {
		e.t.Fatal(err)
	}
	return res
}

// await waits until Communication/id reaches a final status (completed,
// stopped) and returns it; it fails the test after the timeout.
func (e *env) await(id string, timeout time.Duration) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c := e.read("Communication", id)
		if s := c["status"]; s == "completed" || s == "stopped" {
			return c
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("Communication/%s still %v after %v", id, c["status"], timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// statuses lists the status of every version of Communication/id, oldest first.
func (e *env) statuses(id string) []string {
	e.t.Helper()
	seq, err := e.svc.History(e.t.Context(), operator, store.HistoryQuery{Type: "Communication", ID: id})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for v, err := range seq {
		if err != nil {
			e.t.Fatal(err)
		}
		var res map[string]any
		if err := json.Unmarshal(v.Body, &res); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, res["status"].(string))
	}
	slices.Reverse(out) // history is newest first
	return out
}

// notes are the texts of a Communication's notes.
func notes(c map[string]any) []string {
	var out []string
	for _, n := range list(c["note"]) {
		out = append(out, n.(map[string]any)["text"].(string))
	}
	return out
}

func list(v any) []any { l, _ := v.([]any); return l }

// gateway is a fake SMS gateway: it records every message posted and
// answers with the status fail gives the nth request (1, 2, …; 0: 200).
type gateway struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []smsMessage
	at   []time.Time
	fail func(n int) int
}

// smsMessage is what the SMS adapter posts.
type smsMessage struct {
	To, Text, Reference string
	Auth                string
}

func newGateway(t *testing.T) *gateway {
	g := &gateway{}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m smsMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		m.Auth = r.Header.Get("Authorization")
		g.mu.Lock()
		g.msgs = append(g.msgs, m)
		g.at = append(g.at, time.Now())
		n, fail := len(g.msgs), g.fail
		g.mu.Unlock()
		if fail != nil {
			if status := fail(n); status != 0 {
				http.Error(w, "gateway says no", status)
				return
			}
		}
		fmt.Fprint(w, `{"id":"msg-1"}`)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) URL() string { return g.srv.URL + "/send" }

// failWith makes the gateway answer status to requests for which f is true.
func (g *gateway) failWith(f func(n int) int) { g.mu.Lock(); g.fail = f; g.mu.Unlock() }

// received returns the messages posted and when.
func (g *gateway) received() ([]smsMessage, []time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.msgs), slices.Clone(g.at)
}

// mailServer is a tiny SMTP server: enough of RFC 5321 for net/smtp, it
// records each message and its recipient, and can refuse recipients.
type mailServer struct {
	addr string
	ln   net.Listener
	mu   sync.Mutex
	msgs []mailMessage
	// rcptReply, when set, is the reply to RCPT TO (e.g. "550 no such user").
	rcptReply string
}

// mailMessage is one message received.
type mailMessage struct {
	From, To, Data string
}

func newMailServer(t *testing.T) *mailServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &mailServer{addr: ln.Addr().String(), ln: ln}
	go m.serve()
	t.Cleanup(func() { ln.Close() })
	return m
}

func (m *mailServer) serve() {
	for {
		conn, err := m.ln.Accept()
		if err != nil {
			return
		}
		go m.session(conn)
	}
}

// session speaks SMTP on one connection.
func (m *mailServer) session(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	reply := func(s string) { fmt.Fprintf(conn, "%s\r\n", s) }
	reply("220 fake.test ESMTP")
	var msg mailMessage
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			reply("250-fake.test\r\n250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			msg = mailMessage{From: strings.Fields(line[10:])[0]}
			reply("250 OK")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.mu.Lock()
			refuse := m.rcptReply
			m.mu.Unlock()
			if refuse != "" {
				reply(refuse)
				continue
			}
			msg.To = strings.Trim(strings.TrimSpace(line[8:]), "<>")
			reply("250 OK")
		case cmd == "DATA":
			reply("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			msg.Data = b.String()
			m.mu.Lock()
			m.msgs = append(m.msgs, msg)
			m.mu.Unlock()
			reply("250 queued")
		case cmd == "QUIT":
			reply("221 bye")
			return
		default:
			reply("250 OK")
		}
	}
}

// received returns the messages accepted.
func (m *mailServer) received() []mailMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.msgs)
}
