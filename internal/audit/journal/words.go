package journal

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ehealthplus/ehealth/internal/registry"
)

// What an access history says, in English and Traditional Chinese. The
// sentence is built from parts so each language keeps its own order:
//
//	Dr Chan Tai Man at Happy Valley Clinic viewed your lab reports on 3 Nov 2026, 10:42, during a consultation
//	陳大文醫生（快樂谷診所）於2026年11月3日10:42在診症期間查看了你的化驗報告

// verb is what was done, past tense and as attempted (when it failed).
type verb struct{ done, tried text }

// verbs by restful-interaction code.
var verbs = map[string]verb{
	"read":             {text{"viewed", "查看了"}, text{"tried to view", "嘗試查看"}},
	"vread":            {text{"viewed", "查看了"}, text{"tried to view", "嘗試查看"}},
	"history-instance": {text{"viewed the history of", "查看了"}, text{"tried to view the history of", "嘗試查看"}},
	"search-type":      {text{"searched", "搜尋了"}, text{"tried to search", "嘗試搜尋"}},
	"search-system":    {text{"searched", "搜尋了"}, text{"tried to search", "嘗試搜尋"}},
	"history-type":     {text{"searched", "搜尋了"}, text{"tried to search", "嘗試搜尋"}},
	"history-system":   {text{"searched", "搜尋了"}, text{"tried to search", "嘗試搜尋"}},
	"create":           {text{"added to", "新增了"}, text{"tried to add to", "嘗試新增"}},
	"update":           {text{"changed", "更改了"}, text{"tried to change", "嘗試更改"}},
	"patch":            {text{"changed", "更改了"}, text{"tried to change", "嘗試更改"}},
	"delete":           {text{"removed from", "刪除了"}, text{"tried to remove from", "嘗試刪除"}},
	"batch":            {text{"changed", "更改了"}, text{"tried to change", "嘗試更改"}},
	"transaction":      {text{"changed", "更改了"}, text{"tried to change", "嘗試更改"}},
	"operation":        {text{"used", "使用了"}, text{"tried to use", "嘗試使用"}},
}

// records names the record types a citizen sees, by FHIR type.
var records = map[string]text{
	"DiagnosticReport":         {"lab reports", "化驗報告"},
	"Observation":              {"test results and measurements", "檢驗結果及量度紀錄"},
	"Patient":                  {"personal details", "個人資料"},
	"AllergyIntolerance":       {"allergy records", "過敏紀錄"},
	"MedicationRequest":        {"medication records", "藥物紀錄"},
	"MedicationStatement":      {"medication records", "藥物紀錄"},
	"MedicationDispense":       {"medication records", "藥物紀錄"},
	"MedicationAdministration": {"medication records", "藥物紀錄"},
	"Immunization":             {"vaccination records", "疫苗接種紀錄"},
	"Encounter":                {"visit records", "就診紀錄"},
	"EpisodeOfCare":            {"care records", "護理紀錄"},
	"Condition":                {"diagnoses", "診斷紀錄"},
	"Procedure":                {"procedure records", "程序紀錄"},
	"ImagingStudy":             {"imaging records", "影像紀錄"},
	"DocumentReference":        {"clinical documents", "臨床文件"},
	"Composition":              {"clinical documents", "臨床文件"},
	"Consent":                  {"consent records", "同意紀錄"},
	"Appointment":              {"appointments", "預約"},
	"CarePlan":                 {"care plans", "護理計劃"},
	"ServiceRequest":           {"referrals and test requests", "轉介及檢查要求"},
	"Specimen":                 {"specimen records", "樣本紀錄"},
	"RelatedPerson":            {"family and carer details", "家人及照顧者資料"},
	"AuditEvent":               {"access log", "存取紀錄"},
	"Task":                     {"cases", "個案"},
	"Communication":            {"notices", "通知"},
	"CommunicationRequest":     {"notices", "通知"},
	"QuestionnaireResponse":    {"forms", "表格"},
	"FamilyMemberHistory":      {"family history", "家族病史"},
	"ClinicalImpression":       {"clinical assessments", "臨床評估"},
	"NutritionOrder":           {"diet orders", "膳食醫囑"},
	"DeviceRequest":            {"device orders", "醫療器材醫囑"},
	"RiskAssessment":           {"risk assessments", "風險評估"},
	"Coverage":                 {"coverage details", "保障資料"},
}

// Records said without a type of their own.
var (
	wholeRecord  = text{"whole record", "整份紀錄"}   // $everything
	someRecords  = text{"records", "紀錄"}          // a search naming no type
	otherRecords = text{"health records", "健康紀錄"} // a type not in records
)

// purposes says why, by v3 PurposeOfUse code: in English after a comma,
// in Chinese before the verb.
var purposes = map[string]text{
	"TREAT":     {"during a consultation", "在診症期間"},
	"ETREAT":    {"for emergency treatment", "為緊急治療"},
	"BTG":       {"by emergency access", "以緊急存取方式"},
	"CAREMGT":   {"to coordinate your care", "為統籌你的護理"},
	"COC":       {"for the continuity of your care", "為延續你的護理"},
	"PATRQT":    {"at your request", "應你的要求"},
	"FAMRQT":    {"at your family's request", "應你家人的要求"},
	"PWATRNY":   {"at your representative's request", "應你代表的要求"},
	"HOPERAT":   {"to run the health service", "為醫療服務運作"},
	"HPAYMT":    {"to handle payment for your care", "為處理醫療費用"},
	"PUBHLTH":   {"for public health", "為公共衞生"},
	"HRESCH":    {"for health research", "為醫療研究"},
	"HSYSADMIN": {"for system administration", "為系統管理"},
	"HQUALIMP":  {"to improve the quality of care", "為改善護理質素"},
	"HLEGAL":    {"for legal reasons", "因法律需要"},
}

// The kinds of actor an access history distinguishes.
const (
	kindProfessional   = "professional" // a person acting for a provider
	kindSystem         = "system"       // a provider's computer system
	kindOperator       = "operator"     // the platform operator
	kindRepresentative = "sdm"          // someone acting for the citizen
	kindYou            = "you"          // the citizen (left out of the history)
)

// line is one access, ready to be said.
type line struct {
	ev        event
	kind      string
	actor     text // the person's name with title ("Dr Chan Tai Man" / "陳大文醫生")
	role      text
	org       text
	hasOrg    bool
	what      text
	purpose   text
	noPurpose bool
}

// whatOf is the records an event touched, as "your …".
func whatOf(ev event) text {
	types, whole := ev.types()
	if whole {
		return your(wholeRecord)
	}
	var en, zh []string
	for _, t := range types {
		r, ok := records[t]
		if !ok {
			r = otherRecords
		}
		if !slices.Contains(en, r.en) {
			en, zh = append(en, r.en), append(zh, r.zh)
		}
	}
	if len(en) == 0 {
		return your(someRecords)
	}
	return your(text{strings.Join(en, " and "), strings.Join(zh, "及")})
}

func your(t text) text { return text{"your " + t.en, "你的" + t.zh} }

// purposeOf is why, from the event's first purpose of use.
func purposeOf(ev event) (text, bool) {
	if len(ev.purposes) == 0 {
		return text{}, false
	}
	if p, ok := purposes[ev.purposes[0]]; ok {
		return p, true
	}
	return text{"for the purpose coded " + ev.purposes[0], "以用途代碼" + ev.purposes[0]}, true
}

// sentence says l in English and Chinese.
func (l line) sentence() text {
	v, ok := verbs[l.ev.interaction]
	if !ok {
		v = verbs["operation"]
	}
	did := v.done
	if l.ev.outcome != "" && l.ev.outcome != "0" {
		did = v.tried
	}
	t := l.ev.time.In(registry.HongKong)
	en := []string{l.subjectEN(), did.en, l.what.en, "on " + t.Format("2 Jan 2006, 15:04")}
	enText := strings.Join(en, " ")
	zh := l.subjectZH() + fmt.Sprintf("於%d年%d月%d日%02d:%02d", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute()) +
		l.purpose.zh + did.zh + l.what.zh
	if l.noPurpose {
		enText += ", with no purpose stated"
		zh += "（未註明用途）"
	} else {
		enText += ", " + l.purpose.en
	}
	if l.ev.emergency {
		enText += ", using emergency access"
		zh += "（緊急存取）"
	}
	if l.ev.restricted {
		enText += ", including restricted records"
		zh += "（包括受限制紀錄）"
	}
	if l.ev.reason != "" {
		enText += fmt.Sprintf(" (reason given: %q)", l.ev.reason)
		zh += "（所述原因：" + l.ev.reason + "）"
	}
	if did == v.tried {
		enText += ", without success"
		zh += "（未成功）"
	}
	return text{enText, zh}
}

// subjectEN is who, in English: "Dr Chan Tai Man at Happy Valley Clinic".
func (l line) subjectEN() string {
	var who string
	switch l.kind {
	case kindOperator:
		return "The eHealth platform operator"
	case kindYou:
		return "You"
	case kindRepresentative:
		who = "Your representative " + l.actor.en
	case kindSystem:
		who = "A computer system"
	default:
		who = l.actor.en
		if who == "" { // a professional the registry cannot name
			who = "A healthcare professional"
		}
	}
	if l.hasOrg {
		who += " at " + l.org.en
	}
	return who
}

// subjectZH is who, in Chinese: "陳大文醫生（快樂谷診所）".
func (l line) subjectZH() string {
	switch l.kind {
	case kindOperator:
		return "醫健通平台營運者"
	case kindYou:
		return "你"
	case kindRepresentative:
		return "你的代表" + l.actor.zh
	case kindSystem:
		if l.hasOrg {
			return l.org.zh + "的電腦系統"
		}
		return "電腦系統"
	}
	actor := l.actor.zh
	if actor == "" { // a professional the registry cannot name
		actor = "一位醫護人員"
	}
	if l.hasOrg {
		return actor + "（" + l.org.zh + "）"
	}
	return actor
}
