package rest

import (
	"context"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/ehealthplus/ehealth/internal/deposit"
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
// converted to a transaction Bundle (package hl7v2) and, from a provider's
// system client, deposited (Config.Deposit: the patient matched to the
// registered citizen, the results keyed on their source identifiers in
// the provider's namespace, Provenances of corrections) in one
// transaction, audited like any write; from other callers it runs as it
// is. The answer is the HL7 ACK, 200 whatever it says (AA, or AE/AR with
// the error's position or the deposit's reasons): the HTTP status is about
// the transport.
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
		_, err := a.svc.Bundle(ctx, caller, b, resource.ReturnMinimal)
		return err
	}}
	if a.cfg.Deposit != nil && deposit.IsSystemClient(caller) {
		in.Options.LocalBase = deposit.Namespace(caller.Who.Org) + "hl7v2/"
		in.Deposit = func(ctx context.Context, b map[string]any) error {
			keyOnSourceIdentifiers(b, in.Options.LocalBase)
			_, err := a.cfg.Deposit.Deposit(ctx, caller, b)
			return err
		}
	}
	ack := in.Handle(r.Context(), raw)
	w.Header().Set("Content-Type", "application/hl7-v2")
	w.WriteHeader(http.StatusOK)
	w.Write(ack)
}

// keyOnSourceIdentifiers makes a converted message a deposit: every
// entry is POSTed (the deposit keys it), and an entry without an
// identifier under base (the provider's namespace + "hl7v2/": identifiers
// the sender defines locally are already there) gets one made of its
// first identifier — an OID-named filler order number, or a patient known
// only by the HKID — so re-sending the message updates what it deposited.
func keyOnSourceIdentifiers(b map[string]any, base string) {
	entries, _ := b["entry"].([]any)
	for _, e := range entries {
		m, _ := e.(map[string]any)
		res, _ := m["resource"].(map[string]any)
		typ, _ := res["resourceType"].(string)
		if res == nil {
			continue
		}
		m["request"] = map[string]any{"method": "POST", "url": typ}
		ids, _ := res["identifier"].([]any)
		var first map[string]any
		for _, x := range ids {
			id, _ := x.(map[string]any)
			if sys, _ := id["system"].(string); strings.HasPrefix(sys, base) {
				first = nil
				break
			}
			if first == nil {
				first = id
			}
		}
		if first != nil {
			sys, _ := first["system"].(string)
			res["identifier"] = append(ids, map[string]any{"system": base + "id/" + url.PathEscape(sys), "value": first["value"]})
		}
	}
}
