package demo

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// visit is one contact with a provider: an encounter, a vaccination, a
// laboratory report.
type visit struct {
	at   time.Time
	kind string // gp, chronic, lab, cm, dental, emergency, admission, vaccine
	vac  vaccine
}

// chart is what one citizen's records are made from, drawn from their
// records stream.
type chart struct {
	c        *citizen
	r        *rand.Rand
	t        *territory
	from, to time.Time
	has      map[string]bool // chronic key → has it
	doctor   *provider       // the family doctor of chronic care (nil: the cluster's clinic)
	w        *counter
	seq      int
	consents map[string]time.Time // private provider → first visit
}

// counter counts what a citizen's records wrote.
type counter struct {
	Writer
	n int
}

func (c *counter) Write(typ string, res map[string]any) error {
	c.n++
	return c.Writer.Write(typ, res)
}

// budgetWeight is how many records each age band has, relative to the
// mean: children and the old see doctors more often than young adults.
func budgetWeight(age int) float64 {
	switch {
	case age < 6:
		return 1.0
	case age < 18:
		return 0.6
	case age < 45:
		return 0.6
	case age < 65:
		return 1.1
	}
	return 1.9
}

var meanBudgetWeight = func() float64 {
	m := 0.0
	for _, b := range []struct{ from, to int }{{0, 6}, {6, 18}, {18, 45}, {45, 65}, {65, 100}} {
		m += bandShare(b.from, b.to) * budgetWeight(b.from)
	}
	return m
}()

// records writes citizen c's records over [from, to): conditions,
// allergies, visits of every kind and their observations, prescriptions,
// vaccinations, and sharing consents to the private providers visited.
func records(seed int64, cfg Config, t *territory, c *citizen, w Writer, already int) error {
	ch := &chart{c: c, r: rng(seed, c.n, streamRecords), t: t, to: cfg.End, has: map[string]bool{},
		w: &counter{Writer: w, n: already}, consents: map[string]time.Time{}}
	ch.from = cfg.Start
	if c.registered.After(ch.from) {
		ch.from = c.registered
	}
	budget := int(float64(cfg.RecordsPerCitizen) * budgetWeight(c.age) / meanBudgetWeight * (0.7 + 0.6*ch.r.Float64()))
	for _, cc := range chronics {
		ch.has[cc.key] = ch.r.Float64() < cc.prevalence[ageBand(c.age)] && c.age >= 18
	}
	switch {
	case c.age >= 80 && ch.r.Float64() < 0.15:
		// (assumed) about one in seven people of 80 or more live in a
		// residential care home, whose visiting doctor follows them up.
		ch.doctor = ch.local("care-home")
	case ch.r.IntN(2) == 0:
		ch.doctor = ch.local("clinic")
	}
	visits := ch.plan(budget - already)
	if err := ch.problems(visits); err != nil {
		return err
	}
	for _, v := range visits {
		if err := ch.write(v); err != nil {
			return err
		}
	}
	return ch.sharing()
}

// plan lays out the visits: the immunisation schedule, seasonal
// vaccinations, chronic follow-up and laboratory monitoring, then acute
// visits until the citizen's record budget is spent.
func (ch *chart) plan(budget int) []visit {
	var vs []visit
	birth := ch.c.birthDate()
	for _, d := range childhood {
		if at := birth.AddDate(0, d.months, 3+ch.r.IntN(20)); ch.in(at) {
			vs = append(vs, visit{at: at, kind: "vaccine", vac: d.vaccine})
		}
	}
	for y := ch.from.Year(); y <= ch.to.Year(); y++ {
		season := time.Date(y, time.October, 15+ch.r.IntN(60), 10, 0, 0, 0, ch.to.Location())
		age := ch.c.age - (ch.to.Year() - y)
		if (age < 12 || age >= 50) && ch.r.Float64() < 0.5 && ch.in(season) {
			vs = append(vs, visit{at: season, kind: "vaccine", vac: flu})
		}
		if age == 65 && ch.in(season.AddDate(0, 0, 7)) {
			vs = append(vs, visit{at: season.AddDate(0, 0, 7), kind: "vaccine", vac: pneumococcal})
		}
	}
	used := len(ch.conditions()) + len(vs)
	perChronic := 1 + len(ch.conditions())
	if ch.has["hypertension"] {
		perChronic++
	}
	if ch.doctor != nil {
		perChronic += len(ch.conditions()) / 2 // half the private prescriptions are dispensed by a pharmacy
	}
	if len(ch.conditions()) > 0 {
		months := int(ch.to.Sub(ch.from).Hours() / 24 / 30)
		n := min(months/3, max(1, budget*7/10/(perChronic+2)))
		for i := 0; i < n; i++ {
			at := ch.between(float64(i)/float64(n), float64(i+1)/float64(n))
			vs = append(vs, visit{at: at, kind: "chronic"})
			used += perChronic
			if ch.has["diabetes"] && i%2 == 0 {
				vs = append(vs, visit{at: at.AddDate(0, 0, -7), kind: "lab"})
				used += 3
			}
		}
	}
	maxAcute := int(ch.to.Sub(ch.from).Hours()/24/365*12) + 1
	for i := 0; used < budget && i < maxAcute; i++ {
		kind := ch.acuteKind()
		vs = append(vs, visit{at: ch.between(0, 1), kind: kind})
		used += map[string]int{"gp": 1, "cm": 1}[kind] + 1
	}
	slices.SortStableFunc(vs, func(a, b visit) int { return a.at.Compare(b.at) })
	return slices.DeleteFunc(vs, func(v visit) bool { return !ch.in(v.at) })
}

func (ch *chart) acuteKind() string {
	x := ch.r.Float64()
	age := ch.c.age
	switch {
	case x < 0.5:
		return "gp"
	case x < 0.65 && age >= 18:
		return "cm"
	case x < 0.8 && age >= 3:
		return "dental"
	case x < 0.9 && age >= 65:
		return "admission"
	}
	return "emergency"
}

// in reports whether at falls within the citizen's records.
func (ch *chart) in(at time.Time) bool { return !at.Before(ch.from) && at.Before(ch.to) }

// between is a time in the given fraction of the records' span, in
// clinic hours.
func (ch *chart) between(lo, hi float64) time.Time {
	span := ch.to.Sub(ch.from)
	f := lo + (hi-lo)*ch.r.Float64()
	day := ch.from.Add(time.Duration(f * float64(span))).In(ch.to.Location())
	day = time.Date(day.Year(), day.Month(), day.Day(), 9+ch.r.IntN(9), 15*ch.r.IntN(4), 0, 0, ch.to.Location())
	return day
}

func (ch *chart) conditions() []chronic {
	var out []chronic
	for _, cc := range chronics {
		if ch.has[cc.key] {
			out = append(out, cc)
		}
	}
	return out
}

// local is a provider of kind in the citizen's district.
func (ch *chart) local(kind string) *provider {
	list := ch.t.local[kind][ch.c.district]
	return list[ch.r.IntN(len(list))]
}

func (ch *chart) cluster() *provider { return ch.t.clusters[districts[ch.c.district].cluster] }

func (ch *chart) id(short string) string {
	ch.seq++
	return fmt.Sprintf("%s-%s%03d", ch.c.id, short, ch.seq)
}

func (ch *chart) subject() map[string]any { return ref("Patient", ch.c.id) }

// decimal is a JSON number with a fixed number of places (1.50 stays 1.50).
func decimal(v float64, places int) json.Number {
	return json.Number(fmt.Sprintf("%.*f", places, v))
}

func codeable(system, code, display string) map[string]any {
	return map[string]any{"coding": []any{map[string]any{"system": system, "code": code, "display": display}}, "text": display}
}
