package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// FirstAccessNS is the keyed-store namespace remembering which provider
// has been announced to which citizen: key "Organization/ID|patient key",
// never expiring.
const FirstAccessNS = "notify.first-access"

// platformWriter is the writer recorded on the notices the API writes.
const platformWriter = "ehealth-notify"

// noticeFirstAccess tells each citizen of audited read e whose record the
// caller's provider opened for the first time (notify.KindFirstAccess):
// the notice (a Communication in the outbox) is written through the
// service, as the platform, before the answer. Whether a provider was
// announced already is one keyed-store read; the first time, the key is
// claimed (InsertKey, so of two concurrent first reads one writes the
// notice) and released again if the notice cannot be written, and the
// request fails (503) rather than open a record unannounced. Callers
// acting for no provider (citizens, the operator) notify no one; without
// Config.Notified nothing is remembered or written.
func (a *API) noticeFirstAccess(r *http.Request, e audit.Event) error {
	org := e.Caller.Org
	if a.cfg.Notified == nil || org == "" || e.Caller.Operator {
		return nil
	}
	for _, patient := range e.Patients {
		if err := a.firstAccess(r.Context(), e, org, patient); err != nil {
			return outcome.Wrap(outcome.Transient, "the citizen could not be notified of this first access; nothing was served", err)
		}
	}
	return nil
}

// announcedMax bounds API.announced.
const announcedMax = 100_000

// remember notes in this process that key was announced.
func (a *API) remember(key string) {
	if a.announcedN.Add(1) > announcedMax {
		a.announced.Clear()
		a.announcedN.Store(0)
	}
	a.announced.Store(key, true)
}

func (a *API) firstAccess(ctx context.Context, e audit.Event, org, patient string) error {
	key := org + "|" + patient
	if _, ok := a.announced.Load(key); ok {
		return nil
	}
	_, err := a.cfg.Notified.GetKey(ctx, FirstAccessNS, key)
	if err == nil {
		a.remember(key)
	}
	if err == nil || !outcome.Is(err, outcome.NotFound) {
		return err
	}
	k := store.Key{NS: FirstAccessNS, Key: key}
	if err := a.cfg.Notified.InsertKey(ctx, k, []byte(e.RequestID), time.Time{}); outcome.Is(err, outcome.Conflict) {
		a.remember(key)
		return nil // a concurrent request announced it
	} else if err != nil {
		return err
	}
	name := a.organisationName(ctx, org)
	msg := notify.Message{
		English: name.en + " opened your eHealth record for the first time.",
		Chinese: name.zh + "首次查閱了您的 eHealth 紀錄。",
	}
	notice := notify.Notice(notify.KindFirstAccess, patient, nil, msg, time.Now())
	// Written as the platform, and audited as the platform's write.
	platform := e
	platform.Caller = audit.Caller{Subject: platformWriter, ClientID: platformWriter}
	wctx := ctx
	if a.cfg.Audit != nil {
		wctx = resource.AuditWrites(ctx, a.writeAudit(platform, false))
	}
	if _, err := a.svc.Create(wctx, resource.Caller{Writer: platformWriter}, "Communication", notice); err != nil {
		if derr := a.cfg.Notified.DeleteKey(ctx, FirstAccessNS, key); derr != nil {
			a.log.Error("first-access key left claimed", "request_id", e.RequestID, "err", derr)
		}
		return err
	}
	a.remember(key)
	return nil
}

// names is a provider named in English and Chinese.
type names struct{ en, zh string }

// organisationName names org for a notice: its name (and Chinese name,
// from the translation extension on Organization.name, if any), or, when
// it cannot be read, "A healthcare provider".
func (a *API) organisationName(ctx context.Context, org string) names {
	n := names{en: "A healthcare provider", zh: "一間醫護機構"}
	typ, id, _ := strings.Cut(org, "/")
	v, err := a.svc.Read(ctx, resource.Caller{}, typ, id)
	if err != nil || v.Deleted {
		return n
	}
	var res struct {
		Name  string `json:"name"`
		XName struct {
			Extension []struct {
				URL       string `json:"url"`
				Extension []struct {
					URL         string `json:"url"`
					ValueCode   string `json:"valueCode"`
					ValueString string `json:"valueString"`
				} `json:"extension"`
			} `json:"extension"`
		} `json:"_name"`
	}
	if json.Unmarshal(v.Body, &res) != nil || res.Name == "" {
		return n
	}
	n = names{en: res.Name, zh: res.Name}
	for _, x := range res.XName.Extension {
		lang, content := "", ""
		for _, p := range x.Extension {
			switch p.URL {
			case "lang":
				lang = p.ValueCode
			case "content":
				content = p.ValueString
			}
		}
		if strings.HasPrefix(lang, "zh") && content != "" {
			n.zh = content
		}
	}
	return n
}
