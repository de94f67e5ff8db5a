package oracle

import (
	"fmt"
	"math"
	"strconv"
)

// Positional search, Location?near=latitude|longitude|distance|units
// (https://hl7.org/fhir/R4/location.html#positional), written out on its
// own: a Location matches when the great-circle distance from its
// position to the point, on a sphere of the IUGG mean radius, is at most
// the distance (km when no units are given, 50 km when no distance is).
// A position without both coordinates, or outside -90..90 / -180..180,
// is no value.

// earthRadius is the IUGG mean Earth radius in metres, the server's model.
const earthRadius = 6371008.8

// defaultNear is the server's distance for a near value without one, in metres.
const defaultNear = 50000

// metresPer are the UCUM length units a near value may be given in.
var metresPer = map[string]float64{
	"m": 1, "km": 1000, "cm": 0.01, "mm": 0.001,
	"[mi_i]": 1609.344, "[nmi_i]": 1852, "[ft_i]": 0.3048, "[yd_i]": 0.9144, "[in_i]": 0.0254,
}

// nearValue is a parsed near value: the point in degrees, the distance in metres.
type nearValue struct {
	lat, lon, metres float64
}

func parseNear(s string) (nearValue, error) {
	parts := splitUnescaped(s, '|')
	if len(parts) < 2 || len(parts) > 4 {
		return nearValue{}, fmt.Errorf("near %q has %d parts", s, len(parts))
	}
	for len(parts) < 4 {
		parts = append(parts, "")
	}
	v := nearValue{metres: defaultNear}
	var err error
	if v.lat, err = strconv.ParseFloat(parts[0], 64); err != nil || math.Abs(v.lat) > 90 {
		return v, fmt.Errorf("bad latitude %q", parts[0])
	}
	if v.lon, err = strconv.ParseFloat(parts[1], 64); err != nil || math.Abs(v.lon) > 180 {
		return v, fmt.Errorf("bad longitude %q", parts[1])
	}
	unit := parts[3]
	if unit == "" {
		unit = "km"
	}
	per, ok := metresPer[unit]
	if !ok {
		return v, fmt.Errorf("unknown unit %q", unit)
	}
	if parts[2] != "" {
		d, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || d < 0 {
			return v, fmt.Errorf("bad distance %q", parts[2])
		}
		v.metres = d * per
	}
	return v, nil
}

// positionItems: a Location.position with a latitude and a longitude in
// range is one item.
func positionItems(fhirType string, v any) []Item {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	lat, okLat := ratOf(m["latitude"])
	lon, okLon := ratOf(m["longitude"])
	if !okLat || !okLon {
		return nil
	}
	it := Item{FHIRType: fhirType, Position: true}
	it.Lat, _ = lat.Float64()
	it.Lon, _ = lon.Float64()
	if math.Abs(it.Lat) > 90 || math.Abs(it.Lon) > 180 {
		return nil
	}
	return []Item{it}
}

// matchNear: the item's position is within the distance of the point.
func matchNear(v nearValue, it Item) bool {
	return it.Position && greatCircle(v.lat, v.lon, it.Lat, it.Lon) <= v.metres
}

// greatCircle is the haversine distance in metres between two points
// given in degrees: d = 2R·asin(√(sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2))).
func greatCircle(lat1, lon1, lat2, lon2 float64) float64 {
	rad := func(deg float64) float64 { return deg * math.Pi / 180 }
	phi1, phi2 := rad(lat1), rad(lat2)
	dPhi, dLambda := rad(lat2-lat1), rad(lon2-lon1)
	h := math.Pow(math.Sin(dPhi/2), 2) + math.Cos(phi1)*math.Cos(phi2)*math.Pow(math.Sin(dLambda/2), 2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}
