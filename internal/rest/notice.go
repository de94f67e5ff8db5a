package rest

import (
	"context"
	"net/http"
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

func (a *API) firstAccess(ctx context.Context, e audit.Event, org, patient string) error {
	key := org + "|" + patient
	_, err := a.cfg.Notified.GetKey(ctx, FirstAccessNS, key)
	if err == nil || !outcome.Is(err, outcome.NotFound) {
		return err
	}
	k := store.Key{NS: FirstAccessNS, Key: key}
	if err := a.cfg.Notified.InsertKey(ctx, k, []byte(e.RequestID), time.Time{}); outcome.Is(err, outcome.Conflict) {
		return nil // a concurrent request announced it
	} else if err != nil {
		return err
	}
	msg := notify.Message{
		English: "A healthcare provider (" + org + ") opened your eHealth record for the first time.",
		Chinese: "一間醫護機構（" + org + "）首次查閱了您的 eHealth 紀錄。",
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
	return nil
}
