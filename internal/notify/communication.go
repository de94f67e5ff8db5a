package notify

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/store"
)

// notice is a stored notice, read for delivery.
type notice struct {
	v          store.Version
	res        map[string]any
	id         string
	status     string
	kind       string
	patient    string
	recipients []string
	message    Message
}

// found is a stored resource, parsed.
type found struct {
	v   store.Version
	res map[string]any
}

// read reads typ/id as the platform, parsed.
func (w *Worker) read(ctx context.Context, typ, id string) (found, error) {
	v, err := w.svc.Read(ctx, caller, typ, id)
	if err != nil {
		return found{}, fmt.Errorf("notify: read %s/%s: %w", typ, id, err)
	}
	res, err := decode(v.Body)
	if err != nil {
		return found{}, fmt.Errorf("notify: %s/%s: %w", typ, id, err)
	}
	return found{v, res}, nil
}

// readNotice reads Communication/id as a notice.
func (w *Worker) readNotice(ctx context.Context, id string) (notice, error) {
	f, err := w.read(ctx, "Communication", id)
	if err != nil {
		return notice{}, err
	}
	n := notice{v: f.v, res: f.res, id: id}
	n.status, _ = f.res["status"].(string)
	for _, c := range list(f.res["category"]) {
		cc, _ := c.(map[string]any)
		for _, coding := range list(cc["coding"]) {
			m, _ := coding.(map[string]any)
			if m["system"] == KindSystem {
				n.kind, _ = m["code"].(string)
			}
		}
	}
	n.patient = strings.TrimPrefix(reference(f.res["subject"]), "Patient/")
	for _, r := range list(f.res["recipient"]) {
		if ref := reference(r); ref != "" {
			n.recipients = append(n.recipients, ref)
		}
	}
	for _, p := range list(f.res["payload"]) {
		m, _ := p.(map[string]any)
		text, _ := m["contentString"].(string)
		switch payloadLanguage(m) {
		case "zh-Hant", "zh":
			n.message.Chinese = text
		default:
			n.message.English = text
		}
	}
	return n, nil
}

// finished reports whether the notice needs no more delivery.
func (n notice) finished() bool {
	return n.status != "preparation" && n.status != "in-progress"
}

// delivery is the notice to recipient, without its address.
func (n notice) delivery(recipient string) Delivery {
	return Delivery{Communication: n.id, Kind: n.kind, Patient: n.patient, Recipient: recipient, Message: n.message}
}

// finishRetries bounds finish's attempts when other writers race it.
const finishRetries = 5

// finish records the outcome of a notice as a new version, if-match the
// version it read: status completed (with sent) or stopped (with
// statusReason), and the notes. A notice already finished is left alone.
func (w *Worker) finish(ctx context.Context, id, status, reason string, notes []string) error {
	for range finishRetries {
		n, err := w.readNotice(ctx, id)
		if err != nil {
			return err
		}
		if n.finished() {
			return nil
		}
		now := w.cfg.Now().UTC()
		n.res["status"] = status
		if status == "completed" {
			n.res["sent"] = now.Format(time.RFC3339)
		}
		if reason != "" {
			n.res["statusReason"] = map[string]any{"text": truncate(reason, 1000)}
		}
		for _, text := range notes {
			n.res["note"] = append(list(n.res["note"]), map[string]any{
				"authorString": "eHealth+ notifications", "time": now.Format(time.RFC3339), "text": text,
			})
		}
		_, _, err = w.svc.Update(ctx, caller, "Communication", id, n.res, n.v.VersionID)
		if err == nil || !lostRace(err) {
			if err != nil {
				return fmt.Errorf("notify: mark Communication/%s %s: %w", id, status, err)
			}
			return nil
		}
	}
	return outcome.New(outcome.Conflict, "notify: Communication/%s kept changing while being marked %s", id, status)
}

// reference is a Reference's reference string.
func reference(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["reference"].(string)
	return s
}

// payloadLanguage is the language a payload is marked with.
func payloadLanguage(p map[string]any) string {
	for _, x := range list(p["extension"]) {
		m, _ := x.(map[string]any)
		if m["url"] == LanguageExtension {
			code, _ := m["valueCode"].(string)
			return code
		}
	}
	return ""
}

// truncate shortens s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
