package search

import (
	"fmt"
	"math"
	"strconv"
)

// Positional search (https://hl7.org/fhir/R4/location.html#positional):
// Location?near=[latitude]|[longitude]|[distance]|[units] finds the
// Locations whose position (WGS84 degrees) lies within the distance of the
// point, measured along the great circle.
//
// Choices the specification leaves to the server, made here:
//
//   - The Earth is a sphere of radius EarthRadius (the IUGG mean radius);
//     the great-circle distance on it differs from the WGS84 ellipsoid's
//     geodesic by at most about 0.5%. Distances are the haversine formula's.
//   - The distance is inclusive (a Location exactly at the distance
//     matches) and results are exact under that model: the store's
//     latitude/longitude box only narrows what the exact test reads.
//   - Without a distance, "near" means within DefaultNearDistance (the spec
//     leaves it to the server); units default to km, and any UCUM length
//     unit is accepted (m, km, [mi_i], [nmi_i], [ft_i] ...).
//   - A position outside latitude -90..90 or longitude -180..180 is not
//     indexed (it names no place), so it never matches near and counts as
//     missing for near:missing.

// EarthRadius is the radius, in metres, of the sphere distances are
// measured on: the IUGG mean Earth radius R1.
const EarthRadius = 6371008.8

// DefaultNearDistance is the distance, in metres, a near value without
// one searches within.
const DefaultNearDistance = 50_000

// Degree and HalfDegree are one and one half degree in radians, as the
// float64 values Haversine uses, for SQL that must compute the same.
const (
	Degree     float64 = math.Pi / 180
	HalfDegree float64 = math.Pi / 360
)

// NearValue is a near search value: the point (degrees) and the distance
// in metres.
type NearValue struct {
	Lat, Lon float64
	Distance float64 // metres; DefaultNearDistance when none was given
}

// PositionRow is the index value of Location.position: latitude and
// longitude in WGS84 degrees, within -90..90 and -180..180.
type PositionRow struct {
	Lat, Lon float64
}

// Kind implements Row: positions are the values of the special parameter
// near.
func (PositionRow) Kind() ParamType { return Special }

// IsNear reports whether p is a positional parameter (Location.near):
// special, with values latitude|longitude|distance|units.
func IsNear(p *Param) bool { return p != nil && p.Type == Special && p.Code == "near" }

// parseNear reads "lat|lon", "lat|lon|distance" or "lat|lon|distance|units".
func parseNear(s string) (NearValue, error) {
	parts := splitEscaped(s, '|')
	if len(parts) < 2 || len(parts) > 4 {
		return NearValue{}, fmt.Errorf("%q is not latitude|longitude|distance|units", s)
	}
	for i := range parts {
		parts[i] = unescape(parts[i])
	}
	for len(parts) < 4 {
		parts = append(parts, "")
	}
	v := NearValue{Distance: DefaultNearDistance}
	var err error
	if v.Lat, err = coordinate("latitude", parts[0], 90); err != nil {
		return NearValue{}, err
	}
	if v.Lon, err = coordinate("longitude", parts[1], 180); err != nil {
		return NearValue{}, err
	}
	metres, err := lengthUnit(parts[3])
	if err != nil {
		return NearValue{}, err
	}
	if parts[2] != "" {
		d, err := decimalFloat(parts[2])
		if err != nil {
			return NearValue{}, fmt.Errorf("distance %w", err)
		}
		if d < 0 {
			return NearValue{}, fmt.Errorf("distance %s is negative", parts[2])
		}
		v.Distance = d * metres
	}
	return v, nil
}

// coordinate reads a latitude or longitude, which must lie within ±limit.
func coordinate(name, s string, limit float64) (float64, error) {
	if s == "" {
		return 0, fmt.Errorf("%s is missing", name)
	}
	f, err := decimalFloat(s)
	if err != nil {
		return 0, fmt.Errorf("%s %w", name, err)
	}
	if f < -limit || f > limit {
		return 0, fmt.Errorf("%s %s is outside -%g..%g", name, s, limit, limit)
	}
	return f, nil
}

// decimalFloat reads a decimal number ("22.28", "-1.5e3"); unlike
// strconv.ParseFloat it refuses "Inf", "NaN", hexadecimal and underscores.
func decimalFloat(s string) (float64, error) {
	if _, err := ParseNumber(s); err != nil {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return f, nil
}

// lengthUnit returns the metres in one unit of a UCUM length code (km
// when code is empty).
func lengthUnit(code string) (float64, error) {
	if code == "" {
		code = "km"
	}
	f, unit, ok := CanonicalUnit(code)
	if !ok || unit != "m" {
		return 0, fmt.Errorf("units %q are not a UCUM length (such as m, km, [mi_i])", code)
	}
	m, _ := f.Float64()
	return m, nil
}

// extractPosition reads Location.position: a row when it has a latitude
// and a longitude within range.
func extractPosition(value any) []Row {
	m, ok := value.(map[string]any)
	if !ok {
		return nil
	}
	lat, okLat := decimal(m["latitude"])
	lon, okLon := decimal(m["longitude"])
	if !okLat || !okLon {
		return nil
	}
	r := PositionRow{}
	r.Lat, _ = lat.Float64()
	r.Lon, _ = lon.Float64()
	if math.Abs(r.Lat) > 90 || math.Abs(r.Lon) > 180 {
		return nil
	}
	return []Row{r}
}

// MatchNear reports whether position r lies within v's distance of v's
// point: Haversine(v, r) <= v.Limit(), or anywhere when the distance
// reaches the antipode.
func MatchNear(v NearValue, r PositionRow) bool {
	limit, all := v.Limit()
	return all || Haversine(v, r) <= limit
}

// Limit is the largest haversine of the central angle between the point
// and a position within the distance, sin²(d/2R); all is true when the
// distance reaches half way round the Earth, so every position is within.
func (v NearValue) Limit() (limit float64, all bool) {
	theta := v.Distance / EarthRadius
	if theta >= math.Pi {
		return 1, true
	}
	s := math.Sin(theta / 2)
	return s * s, false
}

// Haversine returns the haversine of the central angle between v's point
// and r (https://en.wikipedia.org/wiki/Haversine_formula):
//
//	sin²((lat−φ)/2) + cos φ · cos lat · sin²((lon−λ)/2)
//
// The store's SQL evaluates this very expression, in this order, on the
// same float64 inputs; the explicit conversions stop the compiler from
// fusing a multiply-add, which would round differently from the database.
func Haversine(v NearValue, r PositionRow) float64 {
	a := math.Sin((r.Lat - v.Lat) * HalfDegree)
	b := math.Sin((r.Lon - v.Lon) * HalfDegree)
	a2, b2 := float64(a*a), float64(b*b)
	w := float64(v.CosLat() * math.Cos(r.Lat*Degree))
	return a2 + float64(w*b2)
}

// CosLat is cos φ of the point's latitude, a constant of the query.
func (v NearValue) CosLat() float64 { return math.Cos(v.Lat * Degree) }
