package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/ehealthplus/ehealth/internal/identity"
	"github.com/ehealthplus/ehealth/internal/registry"
)

// syllable is a romanised (Cantonese, Hong Kong Government style) syllable
// and its Chinese character.
type syllable struct{ en, zh string }

// surnames are the commonest Hong Kong surnames, most common first; the
// draw weights them by 1/rank (assumed), so Chan and Wong lead.
var surnames = []syllable{
	{"Chan", "陳"}, {"Wong", "黃"}, {"Lee", "李"}, {"Cheung", "張"}, {"Lau", "劉"},
	{"Ng", "吳"}, {"Ho", "何"}, {"Leung", "梁"}, {"Lam", "林"}, {"Cheng", "鄭"},
	{"Tsang", "曾"}, {"Yeung", "楊"}, {"Chow", "周"}, {"Wu", "胡"}, {"Tang", "鄧"},
	{"Fung", "馮"}, {"Mak", "麥"}, {"Kwok", "郭"}, {"Lo", "羅"}, {"Choi", "蔡"},
	{"Yip", "葉"}, {"So", "蘇"}, {"Tse", "謝"}, {"Chu", "朱"}, {"Au", "區"},
	{"Poon", "潘"}, {"Kwan", "關"}, {"Yu", "余"}, {"Siu", "蕭"}, {"Tam", "譚"},
}

// Given-name syllables by sex, and ones used for either.
var (
	maleGiven = []syllable{
		{"Tai", "大"}, {"Wai", "偉"}, {"Kin", "健"}, {"Chun", "俊"}, {"Kit", "傑"},
		{"Hung", "雄"}, {"Fai", "輝"}, {"Shing", "成"}, {"Keung", "強"}, {"Ho", "浩"},
		{"Hoi", "凱"}, {"Yu", "宇"}, {"Lok", "樂"}, {"Tsz", "梓"}, {"Pak", "柏"},
	}
	femaleGiven = []syllable{
		{"Mei", "美"}, {"Ling", "玲"}, {"Yee", "儀"}, {"Lai", "麗"}, {"Fong", "芳"},
		{"Sze", "詩"}, {"Wing", "詠"}, {"Ying", "瑩"}, {"Nga", "雅"}, {"Yan", "欣"},
		{"Hei", "希"}, {"Sum", "心"}, {"Kwan", "君"}, {"Oi", "愛"}, {"Wan", "雲"},
	}
	eitherGiven = []syllable{
		{"Ka", "嘉"}, {"Man", "文"}, {"Chi", "志"}, {"Ming", "明"}, {"Siu", "小"},
		{"Wai", "慧"}, {"Yuk", "玉"}, {"On", "安"}, {"Tin", "天"}, {"Hiu", "曉"},
	}
)

// person is who someone is: enough to write their names, documents and
// contact points, and to recompute them from their number.
type person struct {
	n        int // citizen number; -1 for a parent who is no citizen
	age      int
	birth    string // YYYY-MM-DD
	gender   string
	family   syllable
	given    [2]syllable
	district int
	phone    string
	email    string
}

func drawSurname(r *rand.Rand) syllable {
	// weights 1/(rank+1): sum over 30 names ≈ 3.0
	x := r.Float64() * harmonic
	for i, s := range surnames {
		if x < 1/float64(i+1) {
			return s
		}
		x -= 1 / float64(i+1)
	}
	return surnames[0]
}

var harmonic = func() float64 {
	h := 0.0
	for i := range surnames {
		h += 1 / float64(i+1)
	}
	return h
}()

func drawGiven(r *rand.Rand, gender string) [2]syllable {
	own := maleGiven
	if gender == "female" {
		own = femaleGiven
	}
	pick := func() syllable {
		if r.IntN(3) == 0 {
			return eitherGiven[r.IntN(len(eitherGiven))]
		}
		return own[r.IntN(len(own))]
	}
	a, b := pick(), pick()
	for b.en == a.en {
		b = own[r.IntN(len(own))]
	}
	return [2]syllable{a, b}
}

// englishName is "CHAN Tai Man" as a HumanName in English.
func (p person) englishName() map[string]any {
	given := p.given[0].en + " " + p.given[1].en
	return map[string]any{
		"use":    "official",
		"text":   strings.ToUpper(p.family.en) + " " + given,
		"family": p.family.en,
		"given":  []any{given},
		"extension": []any{map[string]any{
			"url": registry.LanguageExtension, "valueCode": registry.LangEnglish,
		}},
	}
}

// chineseName is "陳大文" as a HumanName in Chinese.
func (p person) chineseName() map[string]any {
	given := p.given[0].zh + p.given[1].zh
	return map[string]any{
		"use":    "official",
		"text":   p.family.zh + given,
		"family": p.family.zh,
		"given":  []any{given},
		"extension": []any{map[string]any{
			"url": registry.LanguageExtension, "valueCode": registry.LangChinese,
		}},
	}
}

func (p person) names() []any { return []any{p.englishName(), p.chineseName()} }

// display is the English name as the registry writes a professional's.
func (p person) display() string { return p.englishName()["text"].(string) }

// telecom is the person's contact points: a mobile phone, and an email for
// some adults.
func (p person) telecom() []any {
	out := []any{map[string]any{"system": "phone", "value": p.phone, "use": "mobile"}}
	if p.email != "" {
		out = append(out, map[string]any{"system": "email", "value": p.email, "use": "home"})
	}
	return out
}

// drawPhone is a Hong Kong mobile number: 8 digits starting 5, 6 or 9.
func drawPhone(r *rand.Rand) string {
	first := [...]byte{'5', '6', '9'}[r.IntN(3)]
	return fmt.Sprintf("+852 %c%07d", first, r.IntN(10_000_000))
}

// documentNumberSpace is how many numbers one prefix letter holds.
const documentNumberSpace = 1_000_000

// prefixes are HKID prefix letters (assumed: the common ones of recent
// decades), by which the n-th million of citizens is told apart.
var prefixes = []string{"A", "C", "D", "E", "G", "H", "K", "M", "P", "R", "S", "V", "Y", "Z"}

// document is citizen n's identity document: a birth certificate for a
// child under 11 (before the first identity card), else an HKID. The
// number is a permutation of n within its million, offset by the seed, so
// numbers are unique within a run; the check digit is the one identity
// accepts.
func document(seed int64, n, age int) identity.Document {
	kind := identity.HKID
	if age < 11 {
		kind = identity.BirthCertificate
	}
	offset := int(uint64(seed) * 2654435761 % documentNumberSpace)        // Knuth's multiplicative hash
	digits := (n%documentNumberSpace*7919 + offset) % documentNumberSpace // 7919 is prime to 10⁶
	prefix := prefixes[(n/documentNumberSpace+int(uint64(seed)%uint64(len(prefixes))))%len(prefixes)]
	if n/documentNumberSpace >= len(prefixes) {
		prefix = "X" + prefixes[n/documentNumberSpace%len(prefixes)]
	}
	body := fmt.Sprintf("%s%06d", prefix, digits)
	for _, c := range "0123456789A" {
		if doc, err := identity.Parse(kind, body+"("+string(c)+")", ""); err == nil {
			return doc
		}
	}
	panic("demo: no check digit for " + body)
}
