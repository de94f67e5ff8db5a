package demo

// Code systems of the records.
const (
	snomed     = "http://snomed.info/sct"
	icd10      = "http://hl7.org/fhir/sid/icd-10"
	loinc      = "http://loinc.org"
	cvx        = "http://hl7.org/fhir/sid/cvx"
	atc        = "http://www.whocc.no/atc"
	ucum       = "http://unitsofmeasure.org"
	actCode    = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	obsCat     = "http://terminology.hl7.org/CodeSystem/observation-category"
	conditionC = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	conditionV = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	conditionK = "http://terminology.hl7.org/CodeSystem/condition-category"
	allergyC   = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
	allergyV   = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
	// confidentiality labels restricted records (consent.ConfidentialitySystem).
	confidentiality = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	// medicationCategory (assumed) is the platform's own: it tells a
	// Chinese-medicine prescription from a Western one.
	medicationCategory = "https://ehealth.hk/fhir/CodeSystem/medication-category"
	// sharingPolicy is the policy of a sharing Consent (consent.SharingPolicy).
	sharingPolicy = "https://ehealth.hk/fhir/policy/sharing-consent"
)

// chronic is a chronic condition: its codes, its prevalence by age band
// (assumed, near the Population Health Survey 2020-22: under 45, 45-64,
// 65 and over) and the drugs that treat it.
type chronic struct {
	key                  string
	snomed, icd, display string
	prevalence           [3]float64
	drugs                []drug
}

// drug is a Western medicine as a MedicationRequest orders it (ATC).
type drug struct{ atc, name, dose string }

var chronics = []chronic{
	{"hypertension", "38341003", "I10", "Essential (primary) hypertension", [3]float64{0.05, 0.27, 0.55},
		[]drug{{"C08CA01", "Amlodipine 5 mg tablet", "1 tablet once daily"}, {"C09AA03", "Lisinopril 10 mg tablet", "1 tablet once daily"}}},
	{"diabetes", "44054006", "E11.9", "Type 2 diabetes mellitus without complications", [3]float64{0.015, 0.10, 0.22},
		[]drug{{"A10BA02", "Metformin 500 mg tablet", "1 tablet twice daily with meals"}, {"A10BB09", "Gliclazide 80 mg tablet", "1 tablet once daily before breakfast"}}},
	{"hyperlipidaemia", "55822004", "E78.5", "Hyperlipidaemia", [3]float64{0.06, 0.25, 0.40},
		[]drug{{"C10AA01", "Simvastatin 20 mg tablet", "1 tablet at night"}, {"C10AA05", "Atorvastatin 20 mg tablet", "1 tablet once daily"}}},
}

func ageBand(age int) int {
	switch {
	case age < 45:
		return 0
	case age < 65:
		return 1
	}
	return 2
}

// vaccine is a CVX-coded vaccine.
type vaccine struct{ cvx, display string }

// dose is a dose of the Childhood Immunisation Programme: the vaccine and
// the age it is given at, in months (assumed, simplified).
type dose struct {
	months int
	vaccine
}

var childhood = []dose{
	{0, vaccine{"19", "BCG"}}, {0, vaccine{"08", "Hep B, adolescent or pediatric"}},
	{1, vaccine{"08", "Hep B, adolescent or pediatric"}}, {2, vaccine{"130", "DTaP-IPV"}},
	{2, vaccine{"133", "Pneumococcal conjugate PCV 13"}}, {4, vaccine{"130", "DTaP-IPV"}},
	{4, vaccine{"133", "Pneumococcal conjugate PCV 13"}}, {6, vaccine{"130", "DTaP-IPV"}},
	{6, vaccine{"08", "Hep B, adolescent or pediatric"}}, {12, vaccine{"03", "MMR"}},
	{12, vaccine{"133", "Pneumococcal conjugate PCV 13"}}, {18, vaccine{"130", "DTaP-IPV"}},
	{18, vaccine{"94", "MMRV"}}, {72, vaccine{"94", "MMRV"}}, {72, vaccine{"130", "DTaP-IPV"}},
	{126, vaccine{"165", "HPV9"}}, {138, vaccine{"165", "HPV9"}},
}

var (
	flu          = vaccine{"141", "Influenza, seasonal, injectable"}
	pneumococcal = vaccine{"33", "Pneumococcal polysaccharide PPV23"}
)

// allergen is a substance people are allergic to, with its reaction.
type allergen struct {
	snomed, display, category, reaction, reactionCode string
}

var allergens = []allergen{
	{"373270004", "Penicillin -class of antibiotic- (substance)", "medication", "Urticaria", "126485001"},
	{"387458008", "Aspirin (substance)", "medication", "Angioedema", "41291007"},
	{"387406002", "Sulfamethoxazole (substance)", "medication", "Rash", "271807003"},
	{"44027008", "Seafood (substance)", "food", "Urticaria", "126485001"},
	{"256349002", "Peanut - dietary (substance)", "food", "Anaphylaxis", "39579001"},
}

// herb is a Chinese-medicine herbal item: Chinese, pinyin and Latin names.
type herb struct{ zh, pinyin, latin string }

var herbs = []herb{
	{"黃芪", "Huangqi", "Astragali Radix"}, {"當歸", "Danggui", "Angelicae Sinensis Radix"},
	{"白朮", "Baizhu", "Atractylodis Macrocephalae Rhizoma"}, {"茯苓", "Fuling", "Poria"},
	{"甘草", "Gancao", "Glycyrrhizae Radix et Rhizoma"}, {"黨參", "Dangshen", "Codonopsis Radix"},
	{"陳皮", "Chenpi", "Citri Reticulatae Pericarpium"}, {"川芎", "Chuanxiong", "Chuanxiong Rhizoma"},
	{"桂枝", "Guizhi", "Cinnamomi Ramulus"}, {"白芍", "Baishao", "Paeoniae Radix Alba"},
	{"麥冬", "Maidong", "Ophiopogonis Radix"}, {"五味子", "Wuweizi", "Schisandrae Chinensis Fructus"},
}

// acuteReason is why someone sees a doctor for an acute complaint.
type acuteReason struct{ snomed, display string }

var acuteReasons = []acuteReason{
	{"54150009", "Upper respiratory infection"}, {"25064002", "Headache"},
	{"21522001", "Abdominal pain"}, {"161891005", "Backache"},
	{"49727002", "Cough"}, {"386661006", "Fever"}, {"271807003", "Eruption of skin"},
}
