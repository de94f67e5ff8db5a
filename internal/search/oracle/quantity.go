package oracle

import "math/big"

const ucum = "http://unitsofmeasure.org"

// ucumUnits converts the commensurable UCUM units of the Synthea sample
// to a common unit: the dimension's name and the factor to it. Units not
// listed are compared as written (they have no other unit of their kind in
// the sample). This is a table, not a UCUM implementation: the server
// converts with real UCUM, and the oracle must agree on the sample only.
var ucumUnits = map[string]struct {
	dim    string
	factor *big.Rat
}{
	"1":       {"1", big.NewRat(1, 1)},
	"%":       {"1", big.NewRat(1, 100)},
	"{score}": {"1", big.NewRat(1, 1)},
	"g/L":     {"g/L", big.NewRat(1, 1)},
	"g/dL":    {"g/L", big.NewRat(10, 1)},
	"mg/dL":   {"g/L", big.NewRat(1, 100)},
	"10*3/uL": {"/L", new(big.Rat).SetInt64(1e9)},
	"10*6/uL": {"/L", new(big.Rat).SetInt64(1e12)},
	"g":       {"g", big.NewRat(1, 1)},
	"kg":      {"g", big.NewRat(1000, 1)},
	"mg":      {"g", big.NewRat(1, 1000)},
	"pg":      {"g", new(big.Rat).SetFrac64(1, 1e12)},
}

// matchQuantity: a value without a unit compares with any quantity as
// written; with a UCUM unit it compares in the common unit when both
// units are commensurable; otherwise the code (and system, when given)
// must be the quantity's own (https://hl7.org/fhir/R4/search.html#quantity).
func matchQuantity(v value, it Item) bool {
	if v.code == "" {
		return matchNumber(v, it.Num)
	}
	from, okv := ucumUnits[v.code]
	to, okt := ucumUnits[it.UnitCode]
	if (v.system == ucum || v.system == "") && it.UnitSystem == ucum && okv && okt {
		if from.dim != to.dim {
			return false
		}
		return matchNumber(scaled(v, from.factor), new(big.Rat).Mul(it.Num, to.factor))
	}
	if it.UnitCode != v.code || v.system != "" && it.UnitSystem != v.system {
		return false
	}
	return matchNumber(v, it.Num)
}

// scaled is v in a unit f times smaller.
func scaled(v value, f *big.Rat) value {
	mul := func(r *big.Rat) *big.Rat { return new(big.Rat).Mul(r, f) }
	v.num, v.nlo, v.nhi = mul(v.num), mul(v.nlo), mul(v.nhi)
	return v
}
