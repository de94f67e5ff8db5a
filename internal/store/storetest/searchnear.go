package storetest

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"testing"

	"github.com/ehealthplus/ehealth/internal/search"
	"github.com/ehealthplus/ehealth/internal/store"
)

// testSearchNear runs Location?near (positional search,
// https://hl7.org/fhir/R4/location.html#positional) on Locations around
// Hong Kong, across the antimeridian and round the North Pole, and holds
// every answer to search.Match too.
func testSearchNear(t *testing.T, s store.Store) {
	w := newWorld(t, s)
	at := func(lat, lon string) field {
		return w.f("Location", "near", "BackboneElement", `{"latitude":`+lat+`,"longitude":`+lon+`}`)
	}
	w.put("Location", "central", "", at("22.2819", "114.1582"))
	w.put("Location", "tst", "", at("22.2976", "114.1722"))    // 2263.3 m from central
	w.put("Location", "shatin", "", at("22.3820", "114.1880")) // 11.5 km
	w.put("Location", "macau", "", at("22.1987", "113.5439"))  // 63.9 km
	w.put("Location", "mobile", "")                            // no position
	w.put("Location", "suva-e", "", at("-17.8", "179.99"))     // 2117.4 m from suva-w, across the antimeridian
	w.put("Location", "suva-w", "", at("-17.8", "-179.99"))
	w.put("Location", "pole-0", "", at("89.99", "0")) // 1112.0 m from the pole, 2223.9 m from pole-180
	w.put("Location", "pole-180", "", at("89.99", "180"))
	w.put("Location", "moved", "", at("22.2819", "114.1582")) // at central, then at macau
	w.put("Location", "moved", "", at("22.1987", "113.5439"))
	w.put("Location", "closed", "", at("22.2819", "114.1582"))
	w.remove("Location", "closed")
	w.put("Encounter", "e1", "", w.f("Encounter", "location", "Reference", `{"reference":"Location/shatin"}`))
	w.put("Encounter", "e2", "", w.f("Encounter", "location", "Reference", `{"reference":"Location/macau"}`))
	positioned := "Location/central tst shatin macau suva-e suva-w pole-0 pole-180 moved"
	for _, tc := range []fixtureSearchCase{
		{"Location", "near=22.2819|114.1582|5|km", "Location/central tst"},
		{"Location", "near=22.2819|114.1582|2|km", "Location/central"},
		{"Location", "near=22.2819|114.1582|2264|m", "Location/central tst"},
		{"Location", "near=22.2819|114.1582|2263|m", "Location/central"},
		{"Location", "near=22.2819|114.1582|1.5|[mi_i]", "Location/central tst"}, // 2414 m
		{"Location", "near=22.2819|114.1582|1.4|[mi_i]", "Location/central"},     // 2253 m
		{"Location", "near=22.2819|114.1582|0", "Location/central"},              // the point itself
		{"Location", "near=22.2819|114.1582", "Location/central tst shatin"},     // the default 50 km
		{"Location", "near=22.2819|114.1582|70|km", "Location/central tst shatin macau moved"},
		{"Location", "near=-17.8|179.99|3|km", "Location/suva-e suva-w"},
		{"Location", "near=-17.8|-179.99|2|km", "Location/suva-w"},
		{"Location", "near=-17.8|180|1.1|km", "Location/suva-e suva-w"},
		{"Location", "near=90|0|1.2|km", "Location/pole-0 pole-180"},
		{"Location", "near=90|-45|1.1|km", ""},
		{"Location", "near=89.99|90|1.6|km", "Location/pole-0 pole-180"}, // 1572.5 m each, over the pole
		{"Location", "near=89.99|0|2224|m", "Location/pole-0 pole-180"},
		{"Location", "near=89.99|0|2223|m", "Location/pole-0"},
		{"Location", "near=0|0|20016|km", positioned}, // half way round reaches everything
		{"Location", "near=22.2819|114.1582|1,-17.8|-179.99|1", "Location/central suva-w"},
		{"Location", "near=22.2819|114.1582|5&near=22.2976|114.1722|1", "Location/tst"},
		{"Location", "near:missing=true", "Location/mobile"},
		{"Location", "near:missing=false", positioned},
		{"Encounter", "location.near=22.2819|114.1582|20", "Encounter/e1"},
		{"Encounter", "location.near=22.2819|114.1582|40|[nmi_i]", "Encounter/e1 e2"},
	} {
		plan := w.plan(tc.typ, tc.query)
		page := w.all(storeQuery(plan))
		if got := sortedRefs(page); got != expand(tc.want) {
			t.Errorf("%s?%s = %s, want %s", tc.typ, tc.query, got, expand(tc.want))
		}
		if tc.typ == "Location" {
			if ref := w.expected(tc.typ, plan, store.AccessAll); ref != refs(page) {
				t.Errorf("%s?%s: store %s, search.Match %s", tc.typ, tc.query, refs(page), ref)
			}
		}
	}
	if got := w.all(store.SearchQuery{Plan: w.plan("Location", "near=0|0|20016"), Access: store.Access{Patients: []string{"p1"}}}); len(got) != 0 {
		t.Errorf("near under an access predicate hiding non-patient resources = %s", refs(got))
	}
}

// testSearchNearAgreesWithMatch writes Locations at random positions (in
// Hong Kong, at the antimeridian and the poles, some without one) and runs
// random near queries in random units; the store must return what
// search.Match says.
func testSearchNearAgreesWithMatch(t *testing.T, s store.Store) {
	w := newWorld(t, s)
	r := rand.New(rand.NewPCG(11, 13))
	places := [][2]float64{{22.3, 114.17}, {-17.8, 180}, {-17.8, -180}, {89.9, 0}, {-89.9, 45}, {0, 0}}
	jitter := func(p [2]float64, spread float64) search.PositionRow {
		lat := max(-90, min(90, p[0]+(r.Float64()-0.5)*spread))
		lon := p[1] + (r.Float64()-0.5)*spread
		for lon > 180 {
			lon -= 360
		}
		for lon < -180 {
			lon += 360
		}
		return search.PositionRow{Lat: lat, Lon: lon}
	}
	var positions []search.PositionRow
	keys := []string{"", "k1", "k2"}
	for i := range 80 {
		var fields []field
		if i%9 != 0 {
			p := jitter(places[r.IntN(len(places))], 0.5)
			positions = append(positions, p)
			fields = append(fields, field{"near", []search.Row{p}})
		}
		w.put("Location", "l"+strconv.Itoa(i), keys[r.IntN(len(keys))], fields...)
	}
	units := map[string]float64{"m": 1, "km": 1000, "[mi_i]": 1609.344, "[nmi_i]": 1852, "": 1000}
	unitNames := []string{"m", "km", "[mi_i]", "[nmi_i]", ""}
	found := 0
	for n := range 250 {
		var q search.PositionRow
		if r.IntN(3) == 0 {
			q = positions[r.IntN(len(positions))] // exactly at a Location
		} else {
			q = jitter(places[r.IntN(len(places))], 0.6)
		}
		unit := unitNames[r.IntN(len(unitNames))]
		metres := []float64{0, 100, 2000, 10000, 40000, 300000}[r.IntN(6)] * (0.5 + r.Float64())
		dist := strconv.FormatFloat(metres/units[unit], 'f', 3, 64)
		value := fmt.Sprintf("%s|%s|%s|%s", fmtFloat(q.Lat), fmtFloat(q.Lon), dist, unit)
		if r.IntN(10) == 0 {
			value = fmt.Sprintf("%s|%s", fmtFloat(q.Lat), fmtFloat(q.Lon)) // the default distance
		}
		access := store.AccessAll
		if r.IntN(3) == 0 {
			access = store.Access{Patients: []string{keys[1+r.IntN(2)]}, NonPatient: r.IntN(2) == 0}
		}
		vals := url.Values{"near": {value}, "_count": {strconv.Itoa(1 + r.IntN(10))}}
		plan, _, err := search.Parse("Location", vals, w.reg, true)
		if err != nil {
			t.Fatalf("near=%s: %v", value, err)
		}
		want := w.expected("Location", plan, access)
		if got := refs(w.all(store.SearchQuery{Plan: plan, Access: access})); got != want {
			t.Errorf("#%d Location?near=%s under %+v\n got %s\nwant %s", n, value, access, got, want)
		}
		if want != "" {
			found++
		}
	}
	if found < 100 {
		t.Errorf("only %d of 250 random near queries found something", found)
	}
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
