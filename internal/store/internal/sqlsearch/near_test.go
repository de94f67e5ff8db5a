package sqlsearch

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ehealthplus/ehealth/internal/search"
)

// TestNearBoxHoldsCircle: every position search.MatchNear admits lies in
// the box the SQL narrows by, wherever the circle is (poles, the
// antimeridian) and whatever its size; and the box is not the whole globe
// for a small circle away from the poles.
func TestNearBoxHoldsCircle(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	coord := func(limit float64) float64 {
		switch r.IntN(8) {
		case 0:
			return limit * float64(1-2*r.IntN(2)) // on the edge: a pole, the antimeridian
		case 1:
			return (limit - r.Float64()*0.01) * float64(1-2*r.IntN(2))
		}
		return (2*r.Float64() - 1) * limit
	}
	checked := 0
	for range 3000 {
		v := search.NearValue{Lat: coord(90), Lon: coord(180), Distance: math.Pow(10, 7.5*r.Float64())}
		box := boxOf(v)
		for range 200 {
			// a position near the circle's edge, or anywhere
			p := search.PositionRow{Lat: coord(90), Lon: coord(180)}
			if r.IntN(2) == 0 {
				p = edgePoint(v, r.Float64()*2*math.Pi, 1-1e-12)
			}
			if !search.MatchNear(v, p) {
				continue
			}
			checked++
			if !box.holds(p) {
				t.Fatalf("near %+v admits %+v outside the box %+v", v, p, box)
			}
		}
	}
	if checked < 100000 {
		t.Errorf("only %d positions within distance checked", checked)
	}
	if b := boxOf(search.NearValue{Lat: 22.3, Lon: 114.2, Distance: 5000}); len(b.lon) != 1 || b.latMax-b.latMin > 0.1 {
		t.Errorf("a 5 km circle in Hong Kong has the box %+v", b)
	}
	if b := boxOf(search.NearValue{Lat: 0, Lon: 179.99, Distance: 5000}); len(b.lon) != 2 {
		t.Errorf("a circle across the antimeridian has the box %+v, want two longitude ranges", b)
	}
}

func (b nearBox) holds(p search.PositionRow) bool {
	if p.Lat < b.latMin || p.Lat > b.latMax {
		return false
	}
	if len(b.lon) == 0 {
		return true
	}
	for _, r := range b.lon {
		if p.Lon >= r[0] && p.Lon <= r[1] {
			return true
		}
	}
	return false
}

// edgePoint is the position at fraction f of v's distance from its point,
// in direction bearing (radians from north): the direct geodesic problem on
// the sphere.
func edgePoint(v search.NearValue, bearing, f float64) search.PositionRow {
	d := f * v.Distance / search.EarthRadius
	la, lo := v.Lat*math.Pi/180, v.Lon*math.Pi/180
	lat := math.Asin(math.Sin(la)*math.Cos(d) + math.Cos(la)*math.Sin(d)*math.Cos(bearing))
	lon := lo + math.Atan2(math.Sin(bearing)*math.Sin(d)*math.Cos(la), math.Cos(d)-math.Sin(la)*math.Sin(lat))
	lon = math.Remainder(lon, 2*math.Pi)
	return search.PositionRow{Lat: max(-90, min(90, lat*180/math.Pi)), Lon: max(-180, min(180, lon*180/math.Pi))}
}
