package search

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

func TestParseNear(t *testing.T) {
	tests := []struct {
		value              string
		lat, lon, distance float64 // metres
	}{
		{"22.28|114.17|5|km", 22.28, 114.17, 5000},
		{"22.28|114.17|5", 22.28, 114.17, 5000}, // km when no units
		{"22.28|114.17", 22.28, 114.17, DefaultNearDistance},
		{"22.28|114.17||m", 22.28, 114.17, DefaultNearDistance}, // units without a distance say nothing
		{"22.28|114.17|500|m", 22.28, 114.17, 500},
		{"22.28|114.17|2.5|cm", 22.28, 114.17, 0.025},
		{"22.28|114.17|3|[mi_i]", 22.28, 114.17, 3 * 1609.344},
		{"22.28|114.17|1|[nmi_i]", 22.28, 114.17, 1852},
		{"22.28|114.17|100|[ft_i]", 22.28, 114.17, 30.48},
		{"22.28|114.17|1|10*3.m", 22.28, 114.17, 1000},
		{"-90|-180|0", -90, -180, 0},
		{"90|180|0|m", 90, 180, 0},
		{"1e1|+2E1|1.5e0|km", 10, 20, 1500},
	}
	for _, tc := range tests {
		q := mustParse(t, "Location", "near="+escapeQuery(tc.value))
		if len(q.Clauses) != 1 || len(q.Clauses[0].Values) != 1 {
			t.Fatalf("near=%s: clauses %+v", tc.value, q.Clauses)
		}
		got := q.Clauses[0].Values[0].Near
		if got.Lat != tc.lat || got.Lon != tc.lon || math.Abs(got.Distance-tc.distance) > 1e-9*tc.distance {
			t.Errorf("near=%s = %+v, want %v|%v within %v m", tc.value, got, tc.lat, tc.lon, tc.distance)
		}
	}
}

func TestParseNearErrors(t *testing.T) {
	tests := []struct{ value, want string }{
		{"95|114|5|km", "latitude 95 is outside -90..90"},
		{"-90.5|114", "latitude -90.5 is outside"},
		{"22|181|5", "longitude 181 is outside -180..180"},
		{"22|114|-5|km", "distance -5 is negative"},
		{"22|114|5|mi", `units "mi" are not a UCUM length`},
		{"22|114|5|kg", `units "kg" are not a UCUM length`},
		{"22|114|5|m2", `units "m2" are not a UCUM length`},
		{"22|114||kg", `units "kg" are not a UCUM length`},
		{"22", "is not latitude|longitude|distance|units"},
		{"22|114|5|km|x", "is not latitude|longitude|distance|units"},
		{"|114|5", "latitude is missing"},
		{"22||5", "longitude is missing"},
		{"abc|114", `latitude "abc" is not a decimal number`},
		{"NaN|0", "is not a decimal number"},
		{"22|Inf", "is not a decimal number"},
		{"0x1p-2|0", "is not a decimal number"},
		{"22|114|five", `distance "five" is not a decimal number`},
		{"22|114|1e400", "out of range"},
	}
	for _, tc := range tests {
		_, _, err := parse(t, "Location", "near="+escapeQuery(tc.value), false)
		var oe *outcome.Error
		if !errors.As(err, &oe) || oe.Kind != outcome.Invalid || oe.Issues[0].Expression != "near" {
			t.Errorf("near=%s: error %v, want an invalid outcome on near", tc.value, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("near=%s: error %q, want it to say %q", tc.value, err, tc.want)
		}
	}
}

func TestParseNearModifiersAndSort(t *testing.T) {
	q := mustParse(t, "Location", "near=0|0|1,10|10|1")
	if n := len(q.Clauses[0].Values); n != 2 {
		t.Errorf("near with two values (OR) has %d", n)
	}
	if c := mustParse(t, "Location", "near:missing=true").Clauses[0]; c.Modifier != ModMissing || !c.Values[0].Missing {
		t.Errorf("near:missing=true = %+v", c)
	}
	if _, _, err := parse(t, "Location", "near:exact=0|0", false); err == nil {
		t.Error("near:exact is accepted")
	}
	if _, issues, err := parse(t, "Location", "_sort=near", false); err != nil || len(issues) != 1 {
		t.Errorf("_sort=near: %v %v, want one warning (R4 defines no sort by distance)", issues, err)
	}
	// Through a chain: Encounter.location points to Location.
	c := mustParse(t, "Encounter", "location.near=22.3|114.2|3").Clauses[0]
	if c.Chain == nil || !IsNear(c.Chain.Clause.Param) || c.Chain.Clause.Values[0].Near.Distance != 3000 {
		t.Errorf("location.near = %+v", c)
	}
}

// escapeQuery escapes what a query string must ('|' may stay; '+' may not).
func escapeQuery(s string) string { return strings.ReplaceAll(s, "+", "%2B") }

// oneDegree is the great-circle length of one degree on the model sphere.
const oneDegree = EarthRadius * math.Pi / 180 // 111195.0797… m

func TestMatchNear(t *testing.T) {
	hk := PositionRow{22.2819, 114.1582}  // Central
	tst := PositionRow{22.2976, 114.1722} // Tsim Sha Tsui, about 2.3 km away
	macau := PositionRow{22.1987, 113.5439}
	tests := []struct {
		value string
		pos   PositionRow
		want  bool
	}{
		{"0|0|111.195|km", PositionRow{1, 0}, false}, // one degree is 111.19508 km
		{"0|0|111.196|km", PositionRow{1, 0}, true},
		{"0|0|111.196|km", PositionRow{0, 1}, true},
		{"0|0|111.196|km", PositionRow{0.8, 0.8}, false}, // inside the square, outside the circle
		{"0|0|69.09|[mi_i]", PositionRow{1, 0}, false},   // 111.190 km
		{"0|0|69.1|[mi_i]", PositionRow{1, 0}, true},     // 111.206 km
		{"0|0|111195|m", PositionRow{-1, 0}, false},
		{"0|0|111196|m", PositionRow{-1, 0}, true},
		// Across the antimeridian: 179.5 and -179.5 are one degree apart.
		{"0|179.5|111.196", PositionRow{0, -179.5}, true},
		{"0|179.5|111.195", PositionRow{0, -179.5}, false},
		{"0|-180|1|m", PositionRow{0, 180}, true}, // one meridian, two names
		// Over the pole: 89.5°N on opposite meridians are one degree apart.
		{"89.5|0|111.196", PositionRow{89.5, 180}, true},
		{"89.5|0|111.195", PositionRow{89.5, 180}, false},
		{"90|0|1|m", PositionRow{90, 123}, true}, // every longitude of the pole is one point
		{"-90|45|1|m", PositionRow{-90, -45}, true},
		// Half way round the Earth (πR = 20015.1 km) reaches every position.
		{"0|0|20016|km", PositionRow{0, 180}, true},
		{"0|0|20015|km", PositionRow{0, 180}, false},
		{"22.2819|114.1582|0", hk, true}, // inclusive: distance 0 is the point itself
		{"22.2819|114.1582|0", PositionRow{22.28191, 114.1582}, false},
		{"22.2819|114.1582|2.5", tst, true},
		{"22.2819|114.1582|2", tst, false},
		{"22.2819|114.1582", macau, false}, // the default 50 km
		{"22.2819|114.1582|70", macau, true},
	}
	for _, tc := range tests {
		c := mustParse(t, "Location", "near="+escapeQuery(tc.value)).Clauses[0]
		if got := Match(c, []Row{tc.pos}); got != tc.want {
			t.Errorf("near=%s on %v = %v, want %v (haversine distance %.4f m)", tc.value, tc.pos, got, tc.want,
				2*EarthRadius*math.Asin(math.Sqrt(Haversine(c.Values[0].Near, tc.pos))))
		}
	}
	c := mustParse(t, "Location", "near=0|0|1")
	if Match(c.Clauses[0], nil) {
		t.Error("a Location without a position matches near")
	}
	if !Match(mustParse(t, "Location", "near:missing=true").Clauses[0], nil) {
		t.Error("near:missing=true does not find a Location without a position")
	}
}

// TestHaversineAgreesWithVectors holds MatchNear to the central angle
// computed another way, atan2 of the cross and dot products of unit
// vectors, on random pairs: a distance a hair above the angle's matches,
// a hair below does not.
func TestHaversineAgreesWithVectors(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		a := PositionRow{r.Float64()*180 - 90, r.Float64()*360 - 180}
		b := PositionRow{a.Lat + (r.Float64()-0.5)*r.Float64()*20, a.Lon + (r.Float64()-0.5)*r.Float64()*20}
		if r.IntN(4) == 0 {
			b = PositionRow{r.Float64()*180 - 90, r.Float64()*360 - 180}
		}
		b.Lat = max(-90, min(90, b.Lat))
		d := EarthRadius * vectorAngle(a, b)
		if d < 1 {
			continue
		}
		for _, f := range []float64{1 - 1e-9, 1 + 1e-9} {
			v := NearValue{Lat: a.Lat, Lon: a.Lon, Distance: d * f}
			if got := MatchNear(v, b); got != (f > 1) {
				t.Fatalf("%v to %v is %.6f m; within %.6f m: %v", a, b, d, v.Distance, got)
			}
		}
	}
}

func vectorAngle(a, b PositionRow) float64 {
	unit := func(p PositionRow) [3]float64 {
		la, lo := p.Lat*math.Pi/180, p.Lon*math.Pi/180
		return [3]float64{math.Cos(la) * math.Cos(lo), math.Cos(la) * math.Sin(lo), math.Sin(la)}
	}
	u, v := unit(a), unit(b)
	cross := [3]float64{u[1]*v[2] - u[2]*v[1], u[2]*v[0] - u[0]*v[2], u[0]*v[1] - u[1]*v[0]}
	dot := u[0]*v[0] + u[1]*v[1] + u[2]*v[2]
	return math.Atan2(math.Sqrt(cross[0]*cross[0]+cross[1]*cross[1]+cross[2]*cross[2]), dot)
}

func TestExtractPosition(t *testing.T) {
	near, _ := testReg.Lookup("Location", "near")
	tests := []struct {
		json string
		want []Row
	}{
		{`{"latitude":22.28,"longitude":114.17}`, []Row{PositionRow{22.28, 114.17}}},
		{`{"latitude":-90,"longitude":-180.0,"altitude":5}`, []Row{PositionRow{-90, -180}}},
		{`{"latitude":22.28}`, nil},
		{`{"longitude":114.17}`, nil},
		{`{"latitude":90.1,"longitude":0}`, nil}, // names no place: not indexed
		{`{"latitude":0,"longitude":-181}`, nil},
		{`"22.28"`, nil},
	}
	for _, tc := range tests {
		d := json.NewDecoder(strings.NewReader(tc.json))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		got := Extract(near, "BackboneElement", v)
		if len(got) != len(tc.want) || len(got) == 1 && got[0] != tc.want[0] {
			t.Errorf("Extract(near, %s) = %v, want %v", tc.json, got, tc.want)
		}
	}
}

func TestIndexerLocation(t *testing.T) {
	ix := NewIndexer(NewRegistry(), Extractor{})
	for _, tc := range []struct {
		src  string
		want []Row
	}{
		{`{"resourceType":"Location","id":"l1","name":"QMH","position":{"latitude":22.2700,"longitude":114.1310}}`,
			[]Row{PositionRow{22.27, 114.131}}},
		{`{"resourceType":"Location","id":"l2","name":"Mobile clinic"}`, nil},
	} {
		d := json.NewDecoder(strings.NewReader(tc.src))
		d.UseNumber()
		var res map[string]any
		if err := d.Decode(&res); err != nil {
			t.Fatal(err)
		}
		entries, skipped, err := ix.Index(context.Background(), res, "")
		if err != nil || len(skipped) > 0 {
			t.Fatalf("Index: %v %v", err, skipped)
		}
		var got []Row
		for _, e := range entries {
			if e.Code == "near" {
				got = append(got, e.Row)
			}
		}
		if len(got) != len(tc.want) || len(got) == 1 && got[0] != tc.want[0] {
			t.Errorf("near rows of %s = %v, want %v", tc.src, got, tc.want)
		}
	}
}
