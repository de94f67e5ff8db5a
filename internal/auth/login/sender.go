package login

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/store"
)

// CodeMessage is a one-time code to deliver.
type CodeMessage struct {
	Patient string  // Patient/ID of the citizen
	To      Contact // where: a mobile number (sms) or an email address
	Code    string  // six digits
	Expires time.Time
}

// Sender delivers one-time codes. The notification outbox is the real one;
// DemoSender keeps them for the demonstration page. SendCode should queue
// and return quickly: the citizen waits for the page.
type Sender interface {
	SendCode(ctx context.Context, m CodeMessage) error
}

// nsDemoOutbox is where DemoSender keeps the codes it "sent".
const nsDemoOutbox = "login.demo.outbox"

// demoOutboxSize is how many codes the demo page shows.
const demoOutboxSize = 20

// DemoSender is the Sender of demo mode: it keeps each code in the keyed
// store until it expires, for /login/demo/outbox to show. It delivers
// nothing; never use it where real people sign in.
type DemoSender struct {
	keys store.Keyed
}

// NewDemoSender returns a DemoSender over keys.
func NewDemoSender(keys store.Keyed) *DemoSender { return &DemoSender{keys: keys} }

// demoEntry is one code in the demo outbox.
type demoEntry struct {
	Patient string    `json:"patient"`
	To      string    `json:"to"`
	Channel string    `json:"channel"`
	Code    string    `json:"code"`
	Sent    time.Time `json:"sent"`
	Expires time.Time `json:"expires"`
}

// SendCode implements Sender.
func (d *DemoSender) SendCode(ctx context.Context, m CodeMessage) error {
	e := demoEntry{Patient: m.Patient, To: m.To.Value, Channel: m.To.System, Code: m.Code, Sent: time.Now().UTC(), Expires: m.Expires}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	// Keys sort by time sent, so the newest are last.
	k := store.Key{NS: nsDemoOutbox, Key: e.Sent.Format("20060102T150405.000000000Z") + "/" + randomToken()[:8]}
	if err := d.keys.PutKey(ctx, k, b, m.Expires); err != nil {
		return fmt.Errorf("login: demo outbox: %w", err)
	}
	return nil
}

// demoOutbox shows the codes of the last few minutes (demo mode only; the
// route does not exist otherwise). ?format=json answers JSON, newest first,
// for an app or a test to read.
func (h *Handler) demoOutbox(w http.ResponseWriter, r *http.Request) {
	kvs, err := h.keys.ListKeys(r.Context(), nsDemoOutbox, "", 0)
	if err != nil {
		h.internal(w, r, "demo outbox", err)
		return
	}
	var entries []demoEntry
	for _, kv := range slices.Backward(kvs) {
		var e demoEntry
		if json.Unmarshal(kv.Value, &e) == nil && e.Expires.After(h.cfg.Now()) {
			entries = append(entries, e)
		}
		if len(entries) == demoOutboxSize {
			break
		}
	}
	if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, http.StatusOK, entries)
		return
	}
	h.render(w, r, http.StatusOK, "outbox.html", page{Title: text{"Demo: codes sent", "示範：已發送的驗證碼"}, Data: entries})
}
