package oracle

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// generator makes random queries from the registry's parameters, with
// values drawn from the loaded resources (so most queries find something)
// and now and then made up (so some find nothing).
type generator struct {
	r *rand.Rand
	o *Oracle
	// populated lists, per resource type and parameter type, the
	// parameters that find a value on at least one resource.
	populated map[string]map[string][]string
}

// populatedParams finds, for each type, the parameters with values.
func populatedParams(o *Oracle) (map[string]map[string][]string, error) {
	out := map[string]map[string][]string{}
	for _, typ := range o.Types() {
		out[typ] = map[string][]string{}
		var codes []string
		for c := range o.params[typ] {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		for _, c := range codes {
			for _, r := range o.Resources(typ) {
				items, err := o.Items(c, r)
				if err != nil {
					return nil, err
				}
				if len(items) > 0 {
					pt := o.params[typ][c].Type
					out[typ][pt] = append(out[typ][pt], c)
					break
				}
			}
		}
	}
	return out, nil
}

// param picks a parameter of typ: usually one with values, its type
// chosen first so that the few date and quantity parameters get their
// share; sometimes any parameter at all.
func (g *generator) param(typ string, codes []string) Param {
	byType := g.populated[typ]
	if len(byType) == 0 || g.r.IntN(10) == 0 {
		return g.o.params[typ][codes[g.r.IntN(len(codes))]]
	}
	pts := make([]string, 0, len(byType))
	for pt := range byType {
		pts = append(pts, pt)
	}
	slices.Sort(pts)
	cs := byType[pts[g.r.IntN(len(pts))]]
	return g.o.params[typ][cs[g.r.IntN(len(cs))]]
}

// query returns a resource type and 1-3 ANDed parameters, sometimes with
// ORs, modifiers, prefixes and a _sort.
func (g *generator) query() (string, url.Values) {
	types := g.o.Types()
	typ := types[g.r.IntN(len(types))]
	if g.r.IntN(2) == 0 { // weight by count half the time
		all := 0
		for _, t := range types {
			all += len(g.o.Resources(t))
		}
		n := g.r.IntN(all)
		for _, t := range types {
			if n -= len(g.o.Resources(t)); n < 0 {
				typ = t
				break
			}
		}
	}
	params := g.o.params[typ]
	codes := make([]string, 0, len(params))
	for c := range params {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	q := url.Values{}
	for range 1 + g.pick(50, 35, 15) {
		p := g.param(typ, codes)
		name, val := g.clause(typ, p)
		if val != "" {
			q.Add(name, val)
		}
	}
	if len(q) == 0 {
		q.Set("_id", "no-such-id")
	}
	if g.r.IntN(4) == 0 {
		var sortable []string
		for _, c := range codes {
			switch params[c].Type {
			case "date", "string", "token":
				sortable = append(sortable, c)
			}
		}
		s := sortable[g.r.IntN(len(sortable))]
		if g.r.IntN(2) == 0 {
			s = "-" + s
		}
		q.Set("_sort", s)
	}
	return typ, q
}

// pick returns i with probability weights[i]/sum.
func (g *generator) pick(weights ...int) int {
	sum := 0
	for _, w := range weights {
		sum += w
	}
	n := g.r.IntN(sum)
	for i, w := range weights {
		if n -= w; n < 0 {
			return i
		}
	}
	return len(weights) - 1
}

// sample returns an item p finds on a random resource of typ that has one.
func (g *generator) sample(typ string, p Param, ok func(Item) bool) (Item, bool) {
	rs := g.o.Resources(typ)
	for range 20 {
		items, err := g.o.Items(p.Code, rs[g.r.IntN(len(rs))])
		if err != nil || len(items) == 0 {
			continue
		}
		it := items[g.r.IntN(len(items))]
		if ok == nil || ok(it) {
			return it, true
		}
	}
	return Item{}, false
}

// clause returns one query parameter (name with modifier) and its value;
// "" when it could make none.
func (g *generator) clause(typ string, p Param) (string, string) {
	if g.r.IntN(12) == 0 {
		return p.Code + ":missing", fmt.Sprint(g.r.IntN(2) == 0)
	}
	switch p.Type {
	case "token":
		return g.token(typ, p)
	case "string":
		return g.string(typ, p)
	case "date":
		return g.date(typ, p)
	case "number", "quantity":
		return g.number(typ, p)
	case "reference":
		return g.values(typ, p, p.Code, func(it Item) string {
			if it.RefID == "" {
				return ""
			}
			if g.r.IntN(3) == 0 {
				return it.RefID
			}
			return it.RefType + "/" + it.RefID
		}, "Patient/no-such-patient")
	case "uri":
		return g.values(typ, p, p.Code, func(it Item) string { return Escape(it.URL) }, "http://example.org/no-such-uri")
	case "special":
		return g.near(typ, p)
	}
	return "", ""
}

// values makes a value (or, sometimes, two or three ORed) with one.
func (g *generator) values(typ string, p Param, name string, one func(Item) string, miss string) (string, string) {
	var vals []string
	for range 1 + g.pick(80, 15, 5) {
		if g.r.IntN(10) == 0 {
			vals = append(vals, miss)
			continue
		}
		if it, ok := g.sample(typ, p, nil); ok {
			if v := one(it); v != "" {
				vals = append(vals, v)
			}
		}
	}
	if len(vals) == 0 {
		return "", ""
	}
	return name, strings.Join(vals, ",")
}

func (g *generator) token(typ string, p Param) (string, string) {
	switch g.pick(55, 12, 13, 20) {
	case 1: // :not
		it, ok := g.sample(typ, p, func(it Item) bool { return it.Code != "" })
		if !ok {
			return "", ""
		}
		return p.Code + ":not", Escape(it.Code)
	case 2: // :text
		it, ok := g.sample(typ, p, func(it Item) bool {
			return it.Text != "" && (it.FHIRType == "Coding" || it.FHIRType == "CodeableConcept")
		})
		if !ok {
			return "", ""
		}
		return p.Code + ":text", Escape(g.prefixOf(it.Text))
	case 3: // system|code forms
		return g.values(typ, p, p.Code, func(it Item) string {
			if it.Code == "" && it.System == "" {
				return ""
			}
			switch {
			case it.System == "":
				return "|" + Escape(it.Code)
			case g.r.IntN(3) == 0:
				return Escape(it.System) + "|"
			}
			return Escape(it.System) + "|" + Escape(it.Code)
		}, "http://example.org/sys|nothing")
	}
	return g.values(typ, p, p.Code, func(it Item) string { return Escape(it.Code) }, "no-such-code")
}

func (g *generator) string(typ string, p Param) (string, string) {
	switch g.pick(65, 15, 20) {
	case 1:
		return g.values(typ, p, p.Code+":exact", func(it Item) string { return Escape(it.Str) }, "No such name")
	case 2:
		return g.values(typ, p, p.Code+":contains", func(it Item) string {
			s := []rune(it.Str)
			i := g.r.IntN(len(s))
			j := i + 1 + g.r.IntN(len(s)-i)
			return Escape(string(s[i:j]))
		}, "qqxq")
	}
	return g.values(typ, p, p.Code, func(it Item) string { return Escape(g.prefixOf(it.Str)) }, "Zzyzx")
}

// prefixOf returns a random leading part of s, its case sometimes changed.
func (g *generator) prefixOf(s string) string {
	n := utf8.RuneCountInString(s)
	out := string([]rune(s)[:1+g.r.IntN(n)])
	switch g.r.IntN(3) {
	case 0:
		return strings.ToUpper(out)
	case 1:
		return strings.ToLower(out)
	}
	return out
}

var datePrefixes = []string{"", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"}

func (g *generator) date(typ string, p Param) (string, string) {
	return g.values(typ, p, p.Code, func(it Item) string {
		us := it.Lo
		if us == openLow || g.r.IntN(3) == 0 && it.Hi != openHigh {
			us = it.Hi - 1
		}
		if us == openHigh-1 {
			return ""
		}
		tm := time.UnixMicro(us).UTC()
		if g.r.IntN(2) == 0 {
			tm = tm.In(time.FixedZone("", -4*3600))
		}
		layouts := []string{"2006", "2006-01", "2006-01-02", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.000Z07:00"}
		return datePrefixes[g.r.IntN(len(datePrefixes))] + tm.Format(layouts[g.r.IntN(len(layouts))])
	}, "1850-01-01")
}

var numberPrefixes = []string{"", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"}

// number makes number and quantity values: the value at a random
// precision with any prefix, for quantities sometimes with the unit.
func (g *generator) number(typ string, p Param) (string, string) {
	return g.values(typ, p, p.Code, func(it Item) string {
		if it.Num == nil {
			return ""
		}
		n := it.Num.FloatString(g.r.IntN(4))
		if p.Type == "quantity" && it.UnitCode != "" && g.r.IntN(3) == 0 {
			pre := numberPrefixes[g.r.IntN(len(numberPrefixes))]
			return pre + n + "|" + Escape(it.UnitSystem) + "|" + Escape(it.UnitCode)
		}
		return numberPrefixes[g.r.IntN(len(numberPrefixes))] + n
	}, "987654.321")
}

var nearUnits = []string{"", "m", "km", "[mi_i]", "[nmi_i]"}

// near makes near values around a Location's position: the position
// itself or moved a little, a distance from a metre to a thousand
// kilometres in random units, sometimes none (the server's default).
func (g *generator) near(typ string, p Param) (string, string) {
	return g.values(typ, p, p.Code, func(it Item) string {
		lat, lon := it.Lat, it.Lon
		if g.r.IntN(3) > 0 {
			lat = max(-90, min(90, lat+(g.r.Float64()-0.5)*0.2))
			lon = max(-180, min(180, lon+(g.r.Float64()-0.5)*0.2))
		}
		point := strconv.FormatFloat(lat, 'f', 1+g.r.IntN(6), 64) + "|" + strconv.FormatFloat(lon, 'f', 1+g.r.IntN(6), 64)
		if g.r.IntN(8) == 0 {
			return point
		}
		unit := nearUnits[g.r.IntN(len(nearUnits))]
		km := math.Pow(10, 6*g.r.Float64()-3)
		per := map[string]float64{"": 1, "m": 0.001, "km": 1, "[mi_i]": 1.609344, "[nmi_i]": 1.852}[unit]
		return point + "|" + strconv.FormatFloat(km/per, 'f', g.r.IntN(4), 64) + "|" + unit
	}, "-45.5|-170.25|1|m")
}
