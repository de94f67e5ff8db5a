package csvdeposit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ehealthplus/ehealth/internal/identity"
)

// patientColumns start every template: the row's record id and who the
// record is about.
var patientColumns = []Column{
	{Name: "record_id", Required: true, Format: "the clinic's own id of the record, unique in the clinic (up to 64 characters): uploading a row with the same id again updates the record", Example: "R0001"},
	{Name: "id_type", Format: "hkid (default), birth-certificate, exemption-certificate or passport", Example: "hkid"},
	{Name: "id_number", Required: true, Format: "the identity document's number, e.g. A123456(3) (the HKID check digit is checked)", Example: "A123456(3)"},
	{Name: "id_country", Format: "passports only: the issuing country, ISO 3166 alpha-3 (GBR, CHN …)", Example: ""},
	{Name: "patient_number", Format: "the clinic's record number of the patient (optional)", Example: "P00123"},
	{Name: "family_name", Required: true, Format: "as on the identity document", Example: "CHAN"},
	{Name: "given_names", Format: "as on the identity document", Example: "TAI MAN"},
	{Name: "birth_date", Required: true, Format: "YYYY-MM-DD", Example: "1980-01-01"},
	{Name: "gender", Format: "male, female, other or unknown (M, F)", Example: "male"},
}

var idTypes = map[string]identity.Kind{
	"hkid": identity.HKID, "birth-certificate": identity.BirthCertificate, "bc": identity.BirthCertificate,
	"exemption-certificate": identity.ExemptionCertificate, "ce": identity.ExemptionCertificate,
	"passport": identity.Passport, "pp": identity.Passport,
}

var genders = map[string]string{"male": "male", "m": "male", "female": "female", "f": "female", "other": "other", "o": "other", "unknown": "unknown", "u": "unknown"}

// patient is a citizen as a row names them.
type patient struct {
	key       string // identity document system|number
	doc       map[string]any
	number    string // the clinic's record number
	family    string
	given     []any
	birthDate string
	gender    string
	firstRow  int
}

// patients are the citizens of the accepted rows, in the order first met.
type patients struct {
	byKey map[string]*patient
	order []string
}

func newPatients() *patients { return &patients{byKey: map[string]*patient{}} }

func (ps *patients) add(p *patient) {
	if _, ok := ps.byKey[p.key]; !ok {
		ps.byKey[p.key] = p
		ps.order = append(ps.order, p.key)
	}
}

// recordID reads the row's record id, unique in the file.
func (r *row) recordID() string {
	id := r.get("record_id")
	switch {
	case id == "":
	case len(id) > 64:
		r.fail("record_id", CodeRange, "the record id is longer than 64 characters", "記錄編號長於 64 個字元")
	case r.p.ids[id] != 0:
		r.fail("record_id", CodeDuplicate, fmt.Sprintf("record id %q is already used in row %d: each row needs its own id", truncate(id, 64), r.p.ids[id]),
			fmt.Sprintf("記錄編號「%s」已在第 %d 行使用：每行須有自己的編號", truncate(id, 64), r.p.ids[id]))
	}
	return id
}

// patient reads who the row is about (r.cand, when the identity
// document is valid) and checks it agrees with the accepted rows about the
// same document.
func (r *row) patient() {
	kind, ok := idTypes[strings.ToLower(r.get("id_type"))]
	if r.get("id_type") == "" {
		kind, ok = identity.HKID, true
	}
	if !ok {
		r.fail("id_type", CodeValue, fmt.Sprintf("%q is not one of: hkid, birth-certificate, exemption-certificate, passport", truncate(r.get("id_type"), 30)),
			fmt.Sprintf("「%s」不是以下其中之一：hkid、birth-certificate、exemption-certificate、passport", truncate(r.get("id_type"), 30)))
	}
	p := &patient{number: r.get("patient_number"), family: r.get("family_name"), firstRow: r.n}
	if ok && !r.missing("id_number") {
		doc, err := identity.Parse(kind, r.get("id_number"), r.get("id_country"))
		if err != nil {
			r.identityError(kind, err)
		} else {
			p.key, p.doc = doc.System()+"|"+doc.Number, doc.Identifier()
		}
	}
	if g := strings.Join(strings.Fields(r.get("given_names")), " "); g != "" {
		p.given = []any{g} // one given name as written: "TAI MAN", as on the document
	}
	p.birthDate, _ = r.date("birth_date")
	p.gender = r.choice("gender", genders, "")
	if len(p.number) > 64 {
		r.fail("patient_number", CodeRange, "the patient number is longer than 64 characters", "病人編號長於 64 個字元")
	}
	if p.key == "" {
		return
	}
	r.cand = p
	r.agrees(p)
}

// identityError reports a document that is not valid, saying which rule
// failed but never the number.
func (r *row) identityError(kind identity.Kind, err error) {
	col, en, zh := "id_number", "the identity document number is not valid", "身份證明文件號碼無效"
	switch {
	case errors.Is(err, identity.ErrCheckDigit):
		en, zh = "the check digit of the "+string(kind)+" number is wrong (a typing mistake?)", "身份證明文件號碼的核對數字不正確（輸入錯誤？）"
	case errors.Is(err, identity.ErrFormat):
		en, zh = "the "+string(kind)+" number is not in its format (an HKID is one or two letters, six digits and the check digit in brackets)", "身份證明文件號碼格式不正確（香港身份證號碼為一至兩個英文字母、六個數字及括號內的核對數字）"
	case errors.Is(err, identity.ErrCountry):
		col, en, zh = "id_country", "a passport needs its issuing country as three letters (GBR, CHN …)", "護照須填寫簽發國家的三個字母代碼（GBR、CHN 等）"
	}
	r.fail(col, CodeIdentity, en, zh)
}

// agrees checks the row's patient against the accepted rows about the
// same document: one citizen has one name, birth date and record number.
func (r *row) agrees(p *patient) {
	prev, ok := r.p.patients.byKey[p.key]
	if !ok {
		return
	}
	same := func(col string, a, b string, ci bool) {
		if a == b || ci && strings.EqualFold(a, b) {
			return
		}
		r.fail(col, CodeConflict, fmt.Sprintf("row %d has the same identity document with another %s", prev.firstRow, strings.ReplaceAll(col, "_", " ")),
			fmt.Sprintf("第 %d 行的身份證明文件相同，但%s不同", prev.firstRow, columnZH[col]))
	}
	same("family_name", p.family, prev.family, true)
	same("given_names", fmt.Sprint(p.given...), fmt.Sprint(prev.given...), true)
	same("birth_date", p.birthDate, prev.birthDate, false)
	same("patient_number", p.number, prev.number, false)
}

var columnZH = map[string]string{"family_name": "姓氏", "given_names": "名字", "birth_date": "出生日期", "patient_number": "病人編號"}

// resource is the Patient entry's resource: the provider's record of the
// citizen, which the deposit service matches to the registered citizen.
func (p *patient) resource(org string) map[string]any {
	ids := []any{p.doc}
	if p.number != "" {
		ids = append(ids, map[string]any{"use": "usual",
			"type":   map[string]any{"coding": []any{map[string]any{"system": identity.IdentifierTypeSystem, "code": "MR", "display": "Medical record number"}}},
			"system": PatientNumberSystem(org), "value": p.number})
	}
	name := map[string]any{"use": "official", "family": p.family}
	if p.given != nil {
		name["given"] = p.given
	}
	res := map[string]any{"resourceType": "Patient", "identifier": ids, "name": []any{name}, "birthDate": p.birthDate,
		"managingOrganization": map[string]any{"reference": "Organization/" + org}}
	if p.gender != "" {
		res["gender"] = p.gender
	}
	return res
}
