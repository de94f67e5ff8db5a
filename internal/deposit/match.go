package deposit

import (
	"context"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// matchPatients finds the citizen of every Patient entry in the master
// patient index and links the provider's record to their master record;
// a patient who is no registered citizen, or one who does not take part
// (withdrew, no active joining consent), is refused with the reason.
func (d *deposit) matchPatients(ctx context.Context) error {
	for _, it := range d.items {
		if it.role != rolePatient || it.err != nil || it.res == nil {
			continue
		}
		if err := d.matchPatient(ctx, it); err != nil {
			return err
		}
	}
	return nil
}

func (d *deposit) matchPatient(ctx context.Context, it *item) error {
	if !d.hasDocument(it) {
		it.refuse(outcome.At(outcome.Unprocessable, it.path()+".resource.identifier",
			"a deposited Patient carries the citizen's identity document (HKID, birth certificate, Certificate of Exemption or passport), which finds them in the master patient index"))
		return nil
	}
	master, ok, err := d.s.citizens.MasterOf(ctx, it.res)
	if !ok {
		if outcome.KindOf(err) == outcome.Internal {
			return err
		}
		it.refuse(refusal(err, it.path()+".resource", "the patient is not a registered citizen"))
		return nil
	}
	joined, err := d.s.citizens.Participating(ctx, master)
	if err != nil {
		return err
	}
	if !joined {
		it.refuse(outcome.At(outcome.Forbidden, it.path()+".resource",
			"the citizen does not take part in eHealth (withdrawn, or no joining consent): no records are accepted for them"))
		return nil
	}
	it.master = master
	setReferLink(it.res, master)
	return nil
}

// hasDocument reports whether the Patient carries an identity document.
func (d *deposit) hasDocument(it *item) bool {
	list, _ := it.res["identifier"].([]any)
	for _, x := range list {
		if id, ok := x.(map[string]any); ok {
			if _, err := d.s.parser.FromIdentifier(id); err == nil {
				return true
			}
		}
	}
	return false
}

// refusal is the registry's reason for not matching, pointed at the
// Patient entry (at), with a message of its own if it gave none.
func refusal(err error, at, fallback string) error {
	oe := asOutcome(err)
	out := &outcome.Error{Kind: oe.Kind, Err: err}
	for _, is := range oe.Issues {
		if is.Expression == "" || is.Expression == "Patient" {
			is.Expression = at
		}
		out.Issues = append(out.Issues, is)
	}
	if len(out.Issues) == 0 {
		out.Issues = []outcome.Issue{{Severity: outcome.SeverityError, Code: oe.Kind.IssueCode(), Message: fallback, Expression: at}}
	}
	return out
}

// setReferLink makes the provider's Patient defer to the citizen's master
// record (https://hl7.org/fhir/R4/patient.html#links): its one "refer"
// link, other links kept.
func setReferLink(p map[string]any, master string) {
	links, _ := p["link"].([]any)
	out := make([]any, 0, len(links)+1)
	for _, l := range links {
		if m, ok := l.(map[string]any); ok && m["type"] == "refer" {
			continue
		}
		out = append(out, l)
	}
	p["link"] = append(out, map[string]any{"other": map[string]any{"reference": "Patient/" + master}, "type": "refer"})
}
