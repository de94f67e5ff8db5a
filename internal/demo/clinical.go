package demo

import (
	"fmt"
	"time"
)

// problems writes the chronic conditions (recorded at the first visit),
// allergies, and for a few adults a restricted diagnosis.
func (ch *chart) problems(vs []visit) error {
	recorded := ch.from.Add(24 * time.Hour)
	if len(vs) > 0 {
		recorded = vs[0].at
	}
	for _, cc := range ch.conditions() {
		onset := ch.c.birthDate().AddDate(35+ch.r.IntN(max(1, ch.c.age-34)), 0, 0)
		if onset.After(recorded) {
			onset = recorded
		}
		cond := ch.condition(cc.snomed, cc.icd, cc.display, onset, recorded)
		if err := ch.w.Write("Condition", cond); err != nil {
			return err
		}
	}
	if ch.c.age >= 18 && ch.r.Float64() < 0.02 {
		cond := ch.condition("35489007", "F32.9", "Depressive disorder", recorded, recorded)
		cond["meta"] = map[string]any{"security": []any{map[string]any{"system": confidentiality, "code": "R", "display": "restricted"}}}
		if err := ch.w.Write("Condition", cond); err != nil {
			return err
		}
	}
	if ch.r.Float64() < 0.12 {
		return ch.w.Write("AllergyIntolerance", ch.allergy(recorded))
	}
	return nil
}

func (ch *chart) condition(sct, icd, display string, onset, recorded time.Time) map[string]any {
	return map[string]any{
		"resourceType":       "Condition",
		"id":                 ch.id("cond"),
		"clinicalStatus":     codeable(conditionC, "active", "Active"),
		"verificationStatus": codeable(conditionV, "confirmed", "Confirmed"),
		"category":           []any{codeable(conditionK, "problem-list-item", "Problem List Item")},
		"code": map[string]any{"coding": []any{
			map[string]any{"system": snomed, "code": sct, "display": display},
			map[string]any{"system": icd10, "code": icd, "display": display},
		}, "text": display},
		"subject":       ch.subject(),
		"onsetDateTime": onset.Format(time.DateOnly),
		"recordedDate":  instant(recorded),
	}
}

func (ch *chart) allergy(recorded time.Time) map[string]any {
	a := allergens[ch.r.IntN(len(allergens))]
	return map[string]any{
		"resourceType":       "AllergyIntolerance",
		"id":                 ch.id("alg"),
		"clinicalStatus":     codeable(allergyC, "active", "Active"),
		"verificationStatus": codeable(allergyV, "confirmed", "Confirmed"),
		"type":               "allergy",
		"category":           []any{a.category},
		"criticality":        []string{"low", "high"}[ch.r.IntN(2)],
		"code":               codeable(snomed, a.snomed, a.display),
		"patient":            ch.subject(),
		"recordedDate":       instant(recorded),
		"reaction": []any{map[string]any{
			"manifestation": []any{codeable(snomed, a.reactionCode, a.reaction)},
		}},
	}
}

// write writes one visit's records.
func (ch *chart) write(v visit) error {
	switch v.kind {
	case "vaccine":
		return ch.vaccinate(v)
	case "lab":
		return ch.lab(v)
	case "chronic":
		return ch.followUp(v)
	case "cm":
		return ch.chineseMedicine(v)
	}
	return ch.acute(v)
}

// encounter writes an encounter at p (a location of it) and returns its
// id and the role that saw the citizen.
func (ch *chart) encounter(v visit, p *provider, profession, class string, reason map[string]any, days int) (string, string, error) {
	role := p.role(ch.r, profession)
	loc := p.locations[ch.r.IntN(len(p.locations))]
	if p == ch.t.dh {
		loc = ch.dhCentre(ch.c.age >= 65)
	}
	end := v.at.Add(20 * time.Minute)
	if days > 0 {
		end = v.at.AddDate(0, 0, days)
	}
	classes := map[string]string{"AMB": "ambulatory", "EMER": "emergency", "IMP": "inpatient encounter"}
	enc := map[string]any{
		"resourceType":    "Encounter",
		"id":              ch.id("enc"),
		"status":          "finished",
		"class":           map[string]any{"system": actCode, "code": class, "display": classes[class]},
		"subject":         ch.subject(),
		"period":          map[string]any{"start": instant(v.at), "end": instant(end)},
		"serviceProvider": ref("Organization", p.id),
		"location":        []any{map[string]any{"location": ref("Location", loc)}},
	}
	if role != "" {
		enc["participant"] = []any{map[string]any{"individual": ref("PractitionerRole", role)}}
	}
	if reason != nil {
		enc["reasonCode"] = []any{reason}
	}
	if !p.public {
		if _, seen := ch.consents[p.id]; !seen {
			ch.consents[p.id] = v.at
		}
	}
	return enc["id"].(string), role, ch.w.Write("Encounter", enc)
}

// acute is a visit for an acute complaint: a GP (with a prescription), a
// dentist, the emergency room, or an admission.
func (ch *chart) acute(v visit) error {
	reason := acuteReasons[ch.r.IntN(len(acuteReasons))]
	rc := codeable(snomed, reason.snomed, reason.display)
	switch v.kind {
	case "dental":
		_, _, err := ch.encounter(v, ch.local("dental"), "dentist", "AMB", codeable(snomed, "34043003", "Dental consultation and report"), 0)
		return err
	case "emergency":
		_, _, err := ch.encounter(v, ch.cluster(), "doctor", "EMER", rc, 0)
		return err
	case "admission":
		p := ch.cluster()
		if private := ch.t.wide["hospital"]; ch.r.Float64() < 0.2 {
			p = private[ch.r.IntN(len(private))] // (assumed) one admission in five is private
		}
		_, _, err := ch.encounter(v, p, "doctor", "IMP", rc, 2+ch.r.IntN(6))
		return err
	}
	p := ch.cluster()
	if ch.r.Float64() < 0.6 {
		p = ch.local("clinic")
	}
	enc, role, err := ch.encounter(v, p, "doctor", "AMB", rc, 0)
	if err != nil {
		return err
	}
	d := drug{"N02BE01", "Paracetamol 500 mg tablet", "1-2 tablets every 6 hours when necessary"}
	return ch.w.Write("MedicationRequest", ch.prescription(v, enc, role, d, "completed", 5))
}

// followUp is a chronic-care visit: blood pressure for hypertension and a
// refill of every chronic medicine.
func (ch *chart) followUp(v visit) error {
	p := ch.doctor
	if p == nil {
		p = ch.cluster()
	}
	enc, role, err := ch.encounter(v, p, "doctor", "AMB", codeable(snomed, "390906007", "Follow-up encounter"), 0)
	if err != nil {
		return err
	}
	progress := float64(v.at.Sub(ch.from)) / float64(ch.to.Sub(ch.from))
	if ch.has["hypertension"] {
		sys := 150 - 10*progress + ch.r.NormFloat64()*8
		dia := 92 - 5*progress + ch.r.NormFloat64()*5
		if err := ch.w.Write("Observation", ch.bloodPressure(v, enc, role, sys, dia)); err != nil {
			return err
		}
	}
	for i, cc := range ch.conditions() {
		d := cc.drugs[(ch.c.n+i)%len(cc.drugs)]
		status := "active"
		if v.at.AddDate(0, 4, 0).Before(ch.to) {
			status = "completed"
		}
		mr := ch.prescription(v, enc, role, d, status, 112)
		if err := ch.w.Write("MedicationRequest", mr); err != nil {
			return err
		}
		if !p.public && ch.r.IntN(2) == 0 {
			if err := ch.w.Write("MedicationDispense", ch.dispense(v, mr, d)); err != nil {
				return err
			}
		}
	}
	return nil
}

// dispense is a private prescription dispensed by a community pharmacy of
// the citizen's district the next day.
func (ch *chart) dispense(v visit, mr map[string]any, d drug) map[string]any {
	p := ch.local("pharmacy")
	md := map[string]any{
		"resourceType":              "MedicationDispense",
		"id":                        ch.id("dsp"),
		"status":                    "completed",
		"medicationCodeableConcept": codeable(atc, d.atc, d.name),
		"subject":                   ch.subject(),
		"authorizingPrescription":   []any{ref("MedicationRequest", mr["id"].(string))},
		"quantity":                  map[string]any{"value": 112, "unit": "tablet"},
		"daysSupply":                map[string]any{"value": 112, "unit": "days", "system": ucum, "code": "d"},
		"whenHandedOver":            instant(v.at.AddDate(0, 0, 1)),
		"location":                  ref("Location", p.locations[0]),
		"dosageInstruction":         []any{map[string]any{"text": d.dose}},
	}
	if role := p.role(ch.r, "pharmacist"); role != "" {
		md["performer"] = []any{map[string]any{"actor": ref("PractitionerRole", role)}}
	}
	return md
}

func (ch *chart) bloodPressure(v visit, enc, role string, sys, dia float64) map[string]any {
	component := func(code, display string, value float64) map[string]any {
		return map[string]any{
			"code":          codeable(loinc, code, display),
			"valueQuantity": map[string]any{"value": decimal(value, 0), "unit": "mmHg", "system": ucum, "code": "mm[Hg]"},
		}
	}
	obs := ch.observation(v, enc, role, "vital-signs", "Vital Signs", codeable(loinc, "85354-9", "Blood pressure panel with all children optional"))
	obs["component"] = []any{
		component("8480-6", "Systolic blood pressure", sys),
		component("8462-4", "Diastolic blood pressure", dia),
	}
	return obs
}

func (ch *chart) observation(v visit, enc, role, cat, catDisplay string, code map[string]any) map[string]any {
	obs := map[string]any{
		"resourceType":      "Observation",
		"id":                ch.id("obs"),
		"status":            "final",
		"category":          []any{codeable(obsCat, cat, catDisplay)},
		"code":              code,
		"subject":           ch.subject(),
		"effectiveDateTime": instant(v.at),
		"issued":            instant(v.at.Add(2 * time.Hour)),
	}
	if enc != "" {
		obs["encounter"] = ref("Encounter", enc)
	}
	if role != "" {
		obs["performer"] = []any{ref("PractitionerRole", role)}
	}
	return obs
}

// lab is a diabetic's monitoring: HbA1c and fasting glucose, trending
// towards target under treatment, in a laboratory report.
func (ch *chart) lab(v visit) error {
	labs := append([]*provider{ch.cluster()}, ch.t.wide["lab"]...)
	p := labs[ch.r.IntN(len(labs))]
	role := p.role(ch.r, "laboratory-technologist")
	progress := float64(v.at.Sub(ch.from)) / float64(ch.to.Sub(ch.from))
	start := 7.5 + float64(ch.c.n%20)/10 // 7.5 to 9.4 at diagnosis or entry
	a1c := start - (start-7.0)*progress + ch.r.NormFloat64()*0.3
	glucose := 1.59*a1c - 2.59 - 0.8 + ch.r.NormFloat64()*0.5 // ADAG, fasting a little lower
	hba1c := ch.observation(v, "", role, "laboratory", "Laboratory", codeable(loinc, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"))
	hba1c["valueQuantity"] = map[string]any{"value": decimal(a1c, 1), "unit": "%", "system": ucum, "code": "%"}
	fpg := ch.observation(v, "", role, "laboratory", "Laboratory", codeable(loinc, "14771-0", "Fasting glucose [Moles/volume] in Serum or Plasma"))
	fpg["valueQuantity"] = map[string]any{"value": decimal(glucose, 1), "unit": "mmol/L", "system": ucum, "code": "mmol/L"}
	report := map[string]any{
		"resourceType":      "DiagnosticReport",
		"id":                ch.id("rpt"),
		"status":            "final",
		"category":          []any{codeable("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")},
		"code":              map[string]any{"coding": []any{map[string]any{"system": loinc, "code": "4548-4", "display": "Hemoglobin A1c/Hemoglobin.total in Blood"}}, "text": "Diabetes monitoring: HbA1c and fasting glucose"},
		"subject":           ch.subject(),
		"effectiveDateTime": instant(v.at),
		"issued":            instant(v.at.AddDate(0, 0, 1)),
		"performer":         []any{ref("Organization", p.id)},
		"result":            []any{ref("Observation", hba1c["id"].(string)), ref("Observation", fpg["id"].(string))},
	}
	for _, r := range []map[string]any{hba1c, fpg} {
		if err := ch.w.Write("Observation", r); err != nil {
			return err
		}
	}
	if !p.public {
		if _, seen := ch.consents[p.id]; !seen {
			ch.consents[p.id] = v.at
		}
	}
	return ch.w.Write("DiagnosticReport", report)
}

// prescription orders a Western medicine for days days.
func (ch *chart) prescription(v visit, enc, role string, d drug, status string, days int) map[string]any {
	mr := map[string]any{
		"resourceType":              "MedicationRequest",
		"id":                        ch.id("med"),
		"status":                    status,
		"intent":                    "order",
		"medicationCodeableConcept": codeable(atc, d.atc, d.name),
		"subject":                   ch.subject(),
		"encounter":                 ref("Encounter", enc),
		"authoredOn":                instant(v.at),
		"dosageInstruction":         []any{map[string]any{"text": d.dose}},
		"dispenseRequest": map[string]any{
			"expectedSupplyDuration": map[string]any{"value": days, "unit": "days", "system": ucum, "code": "d"},
		},
	}
	if role != "" {
		mr["requester"] = ref("PractitionerRole", role)
	}
	return mr
}

// chineseMedicine is a CM consultation and its herbal prescription: a
// contained Medication of 4 to 7 herbs in grams, one dose a day decocted.
func (ch *chart) chineseMedicine(v visit) error {
	enc, role, err := ch.encounter(v, ch.local("cm-clinic"), "chinese-medicine-practitioner", "AMB", nil, 0)
	if err != nil {
		return err
	}
	var items []any
	for _, i := range ch.r.Perm(len(herbs))[:4+ch.r.IntN(4)] {
		h := herbs[i]
		items = append(items, map[string]any{
			"itemCodeableConcept": map[string]any{"text": fmt.Sprintf("%s %s (%s)", h.zh, h.pinyin, h.latin)},
			"strength": map[string]any{
				"numerator":   map[string]any{"value": 6 + 3*ch.r.IntN(4), "unit": "g", "system": ucum, "code": "g"},
				"denominator": map[string]any{"value": 1, "unit": "dose"},
			},
		})
	}
	days := 3 + ch.r.IntN(5)
	mr := ch.prescription(v, enc, role, drug{}, "completed", days)
	delete(mr, "medicationCodeableConcept")
	mr["contained"] = []any{map[string]any{"resourceType": "Medication", "id": "herbs", "ingredient": items}}
	mr["medicationReference"] = map[string]any{"reference": "#herbs", "display": "中藥處方 Chinese medicine prescription"}
	mr["category"] = []any{codeable(medicationCategory, "chinese-medicine", "Chinese medicine")}
	mr["dosageInstruction"] = []any{map[string]any{
		"text":                  fmt.Sprintf("每日一劑，水煎分兩次服，共%d劑。One dose daily for %d days: decoct in water, take in two portions.", days, days),
		"additionalInstruction": []any{map[string]any{"text": "Decoction 水煎"}},
	}}
	return ch.w.Write("MedicationRequest", mr)
}

// vaccinate records a vaccination: children's at the Maternal and Child
// Health Centre, adults' at their clinic or an Elderly Health Centre.
func (ch *chart) vaccinate(v visit) error {
	p := ch.t.dh
	if ch.c.age >= 18 && ch.r.IntN(2) == 0 {
		p = ch.local("clinic")
	}
	loc := p.locations[0]
	if p == ch.t.dh {
		loc = ch.dhCentre(ch.c.age >= 50)
	}
	imm := map[string]any{
		"resourceType":       "Immunization",
		"id":                 ch.id("imm"),
		"status":             "completed",
		"vaccineCode":        codeable(cvx, v.vac.cvx, v.vac.display),
		"patient":            ch.subject(),
		"occurrenceDateTime": instant(v.at),
		"primarySource":      true,
		"lotNumber":          fmt.Sprintf("L%06d", ch.r.IntN(1_000_000)),
		"location":           ref("Location", loc),
	}
	if role := p.role(ch.r, "nurse"); role != "" {
		imm["performer"] = []any{map[string]any{"actor": ref("PractitionerRole", role)}}
	}
	if !p.public {
		if _, seen := ch.consents[p.id]; !seen {
			ch.consents[p.id] = v.at
		}
	}
	return ch.w.Write("Immunization", imm)
}

// sharing gives most private providers visited a sharing consent at the
// first visit, in realistic states: most active, some revoked, some given
// for one year and expired.
func (ch *chart) sharing() error {
	for _, org := range sortedKeys(ch.consents) {
		at := ch.consents[org]
		if ch.r.Float64() >= 0.45 {
			continue
		}
		performer := ref("Patient", ch.c.id)
		if ch.c.parent != nil && at.Before(ch.c.birthDate().AddDate(16, 0, 0)) {
			performer = ref("RelatedPerson", ch.c.id+"-sdm")
		}
		period := map[string]any{"start": instant(at)}
		status := "active"
		switch x := ch.r.Float64(); {
		case x < 0.10:
			status = "inactive" // revoked
		case x < 0.25:
			period["end"] = instant(at.AddDate(1, 0, 0)) // one year; expired if before End
		}
		con := map[string]any{
			"resourceType": "Consent",
			"id":           ch.id("share"),
			"status":       status,
			"scope": map[string]any{"coding": []any{map[string]any{
				"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy", "display": "Privacy Consent",
			}}},
			"category": []any{
				map[string]any{"coding": []any{map[string]any{"system": "https://ehealth.hk/fhir/CodeSystem/consent-category", "code": "sharing", "display": "eHealth sharing consent"}}},
				map[string]any{"coding": []any{map[string]any{"system": loinc, "code": "59284-0", "display": "Patient Consent"}}},
			},
			"patient":   ch.subject(),
			"dateTime":  instant(at),
			"performer": []any{performer},
			"policy":    []any{map[string]any{"uri": sharingPolicy}},
			"provision": map[string]any{
				"type":   "permit",
				"period": period,
				"actor": []any{map[string]any{
					"role":      map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}}},
					"reference": ref("Organization", org),
				}},
			},
		}
		if err := ch.w.Write("Consent", con); err != nil {
			return err
		}
	}
	return nil
}

// dhCentre is the Department of Health's centre of the citizen's district:
// its Elderly Health Centre, else its Maternal and Child Health Centre (the
// locations writeLocations gives the DH, two a district).
func (ch *chart) dhCentre(elderly bool) string {
	i := 2 * ch.c.district
	if elderly {
		i++
	}
	return ch.t.dh.locations[i]
}
