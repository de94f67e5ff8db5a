package sqlsearch

import (
	"math"
	"math/big"
	"strconv"

	"github.com/ehealthplus/ehealth/internal/search"
)

// Positional search, Location?near=lat|lon|distance|units
// (search.IsNear; https://hl7.org/fhir/R4/location.html#positional).
//
// A position is stored as the two parts of a combination, the way a
// composite's parts are: idx_number rows "near#0" (the latitude) and
// "near#1" (the longitude), lo = hi = the value in degrees, sharing comb.
// So positions need no table of their own and every backend keeps its
// schema. The condition on a pair of rows is
//
//   - a latitude range, and a longitude range (two across the
//     antimeridian, none when the circle holds a pole), which the
//     (res_type, param, lo) index reads; the box contains the whole circle,
//     so it only narrows what the exact test reads, and
//   - the exact test, search.Haversine's expression over the same float64
//     inputs, against search.NearValue.Limit: results are search.MatchNear's.
//
// Both databases evaluate sin, cos and power natively (PostgreSQL's are
// built in; modernc.org/sqlite is built with SQLite's math functions).

// The suffixes of a position's parts.
const (
	latPart = "#0"
	lonPart = "#1"
)

// positionParts are the rows Flatten stores for a position.
func positionParts(r search.PositionRow) []search.Row {
	return []search.Row{degreesRow(r.Lat), degreesRow(r.Lon)}
}

// degreesRow is a coordinate as a number row. It holds the shortest
// decimal that reads back as the float64, so PostgreSQL's numeric keeps
// 22.28, not the binary fraction's 50 digits, and each database's double
// precision value of the column is the float64 search.MatchNear uses.
func degreesRow(f float64) search.NumberRow {
	d, _ := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	return search.NumberRow{Lo: d, Hi: d}
}

// near compiles a near clause on the position rows of the resource rid.
func (b *builder) near(c search.Clause, sc scope, rid string) (string, error) {
	lat, lon := c.Param.Code+latPart, c.Param.Code+lonPart
	switch c.Modifier {
	case search.ModMissing:
		m := b.alias("m")
		exists := "EXISTS (SELECT 1 FROM idx_number " + m + " WHERE " + m + ".rid = " + rid + " AND " + m + ".param = " + b.arg(lat) + ")"
		if len(c.Values) > 0 && c.Values[0].Missing {
			return "NOT " + exists, nil
		}
		return exists, nil
	case search.ModNone:
	default:
		return "", unsupported(c)
	}
	a, o := b.alias("a"), b.alias("o")
	var conds []string
	for _, v := range c.Values {
		conds = append(conds, b.within(v.Near, a+".lo", o+".lo"))
	}
	return rid + " IN (SELECT " + a + ".rid FROM " + b.from("idx_number", a, sc) + " JOIN idx_number " + o +
		" ON " + o + ".rid = " + a + ".rid AND " + o + ".param = " + b.arg(lon) + " AND " + o + ".comb = " + a + ".comb WHERE " +
		and(a+".param = "+b.arg(lat), b.rowScope(a, sc), or(conds)) + ")", nil
}

// within is "the position in columns lat, lon is within v's distance of
// its point".
func (b *builder) within(v search.NearValue, lat, lon string) string {
	limit, all := v.Limit()
	if all {
		return "1=1"
	}
	box := boxOf(v)
	var conds []string
	if box.latMin > -90 {
		conds = append(conds, lat+" >= "+b.degrees(box.latMin))
	}
	if box.latMax < 90 {
		conds = append(conds, lat+" <= "+b.degrees(box.latMax))
	}
	var lons []string
	for _, r := range box.lon {
		lons = append(lons, "("+lon+" >= "+b.degrees(r[0])+" AND "+lon+" <= "+b.degrees(r[1])+")")
	}
	if len(lons) > 0 {
		conds = append(conds, or(lons))
	}
	conds = append(conds, b.haversine(v, lat, lon)+" <= "+b.float(limit))
	return "(" + and(conds...) + ")"
}

// haversine is search.Haversine in SQL, term for term and in its order.
func (b *builder) haversine(v search.NearValue, lat, lon string) string {
	la, lo := "CAST("+lat+" AS double precision)", "CAST("+lon+" AS double precision)"
	half := b.float(search.HalfDegree)
	return "power(sin((" + la + " - " + b.float(v.Lat) + ") * " + half + "), 2) + " +
		b.float(v.CosLat()) + " * cos(" + la + " * " + b.float(search.Degree) + ") * " +
		"power(sin((" + lo + " - " + b.float(v.Lon) + ") * " + half + "), 2)"
}

// float binds a double precision value (spelt so that both databases read
// the type: SQLite's affinity rules make it REAL).
func (b *builder) float(f float64) string { return "CAST(" + b.arg(f) + " AS double precision)" }

// degrees binds a coordinate bound for comparison with a number column.
func (b *builder) degrees(f float64) string { return b.num(degreesRow(f).Lo) }

// nearBox is a latitude/longitude box holding every position within a
// near value's distance.
type nearBox struct {
	latMin, latMax float64
	lon            [][2]float64 // longitude ranges; none when any longitude may be within
}

// boxMargin widens the box (degrees, about a millimetre) so that rounding
// in computing it never leaves out a position the exact test admits.
const boxMargin = 1e-8

// boxOf bounds the circle of angular radius θ = d/R around (φ, λ):
// latitudes φ ± θ and, unless that reaches a pole, longitudes
// λ ± asin(sin θ / cos φ), the circle's widest reach
// (http://janmatuschek.de/LatitudeLongitudeBoundingCoordinates).
func boxOf(v search.NearValue) nearBox {
	theta := v.Distance / search.EarthRadius
	dlat := theta/search.Degree + boxMargin
	box := nearBox{latMin: v.Lat - dlat, latMax: v.Lat + dlat}
	if box.latMin <= -90 || box.latMax >= 90 {
		return box
	}
	s := math.Sin(theta) / math.Cos(v.Lat*search.Degree)
	if s >= 1 {
		return box
	}
	dlon := math.Asin(s)/search.Degree + boxMargin
	lo, hi := v.Lon-dlon, v.Lon+dlon
	switch {
	case lo < -180:
		box.lon = [][2]float64{{lo + 360, 180}, {-180, hi}}
	case hi > 180:
		box.lon = [][2]float64{{lo, 180}, {-180, hi - 360}}
	default:
		box.lon = [][2]float64{{lo, hi}}
	}
	return box
}
