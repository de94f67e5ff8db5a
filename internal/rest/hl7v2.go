package rest

import (
	"context"
	"io"
	"mime"
	"net/http"

	"github.com/ehealthplus/ehealth/internal/hl7v2"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// HL7v2Path is where lab systems POST HL7 v2 messages (ORU^R01) over
// HTTP, with the same bearer token as the FHIR API.
const HL7v2Path = "/hl7v2"

// hl7v2Types are the content types of an HL7 v2 message in ER7.
var hl7v2Types = map[string]bool{"application/hl7-v2": true, "x-application/hl7-v2+er7": true, "text/plain": true}

// hl7v2Message serves POST /hl7v2 (Config.HL7v2): the message is
// converted to a transaction Bundle (package hl7v2) and deposited as the
// caller — a lab's system client, held to its scopes, the joining consent
// and what it deposited — in one transaction, audited like any write. The
// answer is the HL7 ACK, 200 whatever it says (AA, or AE/AR with the
// error's position): the HTTP status is about the transport.
func (a *API) hl7v2Message(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if !hl7v2Types[mt] {
		a.writeError(w, r, outcome.New(outcome.UnsupportedMedia, "an HL7 v2 message is sent as application/hl7-v2 (ER7), not %q", mt))
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		a.writeError(w, r, outcome.Wrap(outcome.Invalid, "the message could not be read", err))
		return
	}
	caller := a.caller(r)
	in := hl7v2.Intake{Options: *a.cfg.HL7v2, Deposit: func(ctx context.Context, b map[string]any) error {
		if err := a.linkPatients(ctx, b); err != nil {
			return err
		}
		_, err := a.svc.Bundle(ctx, caller, b, resource.ReturnMinimal)
		return err
	}}
	ack := in.Handle(r.Context(), raw)
	w.Header().Set("Content-Type", "application/hl7-v2")
	w.WriteHeader(http.StatusOK)
	w.Write(ack)
}

// linkPatients links each Patient a message brings (the lab's own record
// of the patient, created unless the lab holds one already) to the
// registered citizen it is about (Config.HL7v2Master: the identity
// document, birth date and name must agree), so the results land in the
// citizen's record in the deposit's transaction. A patient matching no
// registered citizen is left as it is: the deposit is then refused for
// want of the joining consent, with that reason in the ACK.
func (a *API) linkPatients(ctx context.Context, b map[string]any) error {
	if a.cfg.HL7v2Master == nil {
		return nil
	}
	entries, _ := b["entry"].([]any)
	for _, e := range entries {
		m, _ := e.(map[string]any)
		p, _ := m["resource"].(map[string]any)
		if p["resourceType"] != "Patient" {
			continue
		}
		master, ok, err := a.cfg.HL7v2Master(ctx, p)
		if !ok {
			if outcome.Is(err, outcome.Unprocessable) {
				continue
			}
			return err
		}
		links, _ := p["link"].([]any)
		p["link"] = append(links, map[string]any{"other": map[string]any{"reference": "Patient/" + master}, "type": "refer"})
	}
	return nil
}
