package fhirpath

import (
	"errors"
	"math"
	"math/big"
	"strings"
)

func init() {
	register(map[string]*function{
		// math (https://hl7.org/fhirpath/N1/#math)
		"abs":      {eager: fnAbs},
		"ceiling":  {eager: intResult(func(d decimal) *big.Int { return d.ceiling() })},
		"floor":    {eager: intResult(func(d decimal) *big.Int { return d.floor() })},
		"truncate": {eager: intResult(func(d decimal) *big.Int { return d.truncate(0).r.Num() })},
		"round":    {max: 1, eager: fnRound},
		"exp":      {eager: floatFn(math.Exp)},
		"ln":       {eager: floatFn(math.Log)},
		"sqrt":     {eager: floatFn(math.Sqrt)},
		"log":      {min: 1, max: 1, eager: fnLog},
		"power":    {min: 1, max: 1, eager: fnPower},
		// boundaries and precision (FHIRPath 2.1)
		"lowBoundary":  {max: 1, eager: boundaryFn(false)},
		"highBoundary": {max: 1, eager: boundaryFn(true)},
		"precision":    {eager: fnPrecision},
		"comparable":   {min: 1, max: 1, eager: fnComparable},
		// utility
		"now":       {eager: fnNow},
		"today":     {eager: fnToday},
		"timeOfDay": {eager: fnTimeOfDay},
	})
}

// singleNumber returns the single numeric input; ok is false when it is empty.
func singleNumber(in Collection) (Value, bool, error) {
	if len(in) == 0 {
		return Value{}, false, nil
	}
	if len(in) > 1 {
		return Value{}, false, errNotSingleton
	}
	v, ok := numeric(in[0])
	if !ok {
		if in[0].typ.sys != kNone && !hasValue(in[0]) {
			return Value{}, false, nil
		}
		return Value{}, false, errors.New("expected a number")
	}
	return v, true, nil
}

func fnAbs(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	v, ok, err := singleNumber(in)
	if err != nil || !ok {
		return nil, err
	}
	switch d := v.data.(type) {
	case int64:
		if d < 0 {
			d = -d
		}
		return Collection{intValue(d)}, nil
	case decimal:
		return Collection{decimalValue(d.abs())}, nil
	case quantity:
		return Collection{quantityValue(quantity{Value: d.Value.abs(), Unit: d.Unit})}, nil
	}
	return nil, nil
}

func intResult(f func(decimal) *big.Int) func(*evaluator, *node, Collection, []Collection) (Collection, error) {
	return func(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
		v, ok, err := singleNumber(in)
		if err != nil || !ok {
			return nil, err
		}
		d, ok := toDecimal(v)
		if !ok {
			return nil, errors.New("expected a number")
		}
		r := f(d)
		if !r.IsInt64() {
			return nil, nil
		}
		return Collection{intValue(r.Int64())}, nil
	}
}

func fnRound(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	v, ok, err := singleNumber(in)
	if err != nil || !ok {
		return nil, err
	}
	d, ok := toDecimal(v)
	if !ok {
		return nil, errors.New("expected a number")
	}
	var places int64
	if len(a) == 1 {
		if places, _, err = singletonInt(a[0]); err != nil {
			return nil, err
		}
		if places < 0 || places > maxScale {
			return nil, errors.New("round() precision out of range")
		}
	}
	return Collection{decimalValue(d.round(int(places)))}, nil
}

// floatFn makes the functions that cannot be exact; they go through float64.
func floatFn(f func(float64) float64) func(*evaluator, *node, Collection, []Collection) (Collection, error) {
	return func(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
		v, ok, err := singleNumber(in)
		if err != nil || !ok {
			return nil, err
		}
		d, ok := toDecimal(v)
		if !ok {
			return nil, errors.New("expected a number")
		}
		return floatResult(f(d.float()))
	}
}

func floatResult(f float64) (Collection, error) {
	d, ok := decimalFromFloat(f)
	if !ok {
		return nil, nil
	}
	return Collection{decimalValue(d)}, nil
}

func fnLog(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	v, ok, err := singleNumber(in)
	if err != nil || !ok {
		return nil, err
	}
	b, ok, err := singleNumber(a[0])
	if err != nil || !ok {
		return nil, err
	}
	x, _ := toDecimal(v)
	base, _ := toDecimal(b)
	return floatResult(math.Log(x.float()) / math.Log(base.float()))
}

func fnPower(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	v, ok, err := singleNumber(in)
	if err != nil || !ok {
		return nil, err
	}
	p, ok, err := singleNumber(a[0])
	if err != nil || !ok {
		return nil, err
	}
	bi, ok1 := v.data.(int64)
	pi, ok2 := p.data.(int64)
	if ok1 && ok2 && pi >= 0 {
		r, ok := intPower(bi, pi)
		if !ok {
			return nil, nil
		}
		return Collection{intValue(r)}, nil
	}
	x, _ := toDecimal(v)
	y, _ := toDecimal(p)
	return floatResult(math.Pow(x.float(), y.float()))
}

// intPower raises b to the power p, reporting overflow.
func intPower(b, p int64) (int64, bool) {
	r := int64(1)
	for ; p > 0; p-- {
		if b == 0 || b == 1 || r == 0 {
			return r * b, true
		}
		if b == -1 {
			if p%2 == 1 {
				r = -r
			}
			return r, true
		}
		n := r * b
		if n/b != r {
			return 0, false
		}
		r = n
	}
	return r, true
}

// boundaryFn makes lowBoundary and highBoundary for decimals, quantities and dates.
func boundaryFn(high bool) func(*evaluator, *node, Collection, []Collection) (Collection, error) {
	return func(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
		if len(in) == 0 {
			return nil, nil
		}
		if len(in) > 1 {
			return nil, errNotSingleton
		}
		v, ok := system(in[0])
		if !ok {
			return nil, nil
		}
		digits, hasDigits := int64(-1), false
		if len(a) == 1 {
			var err error
			if digits, hasDigits, err = singletonInt(a[0]); err != nil {
				return nil, err
			}
		}
		switch d := v.data.(type) {
		case int64, decimal:
			x, _ := toDecimal(v)
			if !hasDigits {
				digits = divisionScale
			}
			r, ok := decimalBoundary(x, high, int(digits))
			if !ok {
				return nil, nil
			}
			return Collection{decimalValue(r)}, nil
		case quantity:
			if !hasDigits {
				digits = divisionScale
			}
			r, ok := decimalBoundary(d.Value, high, int(digits))
			if !ok {
				return nil, nil
			}
			return Collection{quantityValue(quantity{Value: r, Unit: d.Unit})}, nil
		case dateTime:
			if !hasDigits {
				digits = map[sysKind]int64{kDate: 8, kDateTime: 17, kTime: 9}[d.kind]
			}
			r, ok := d.boundary(high, int(digits))
			if !ok {
				return nil, nil
			}
			return Collection{Value{typ: v.typ, data: r}}, nil
		}
		return nil, nil
	}
}

// decimalBoundary is the lowest or highest value a decimal written with its
// precision may stand for, at digits decimal places: the value ± half a unit
// of its last digit, truncated (low) or rounded (high), mirrored for
// negative values — the behaviour of the reference implementation the
// official tests come from.
func decimalBoundary(x decimal, high bool, digits int) (decimal, bool) {
	if digits < 0 || digits > maxScale {
		return decimal{}, false
	}
	if x.sign() < 0 {
		r, _ := decimalBoundary(x.neg(), !high, digits)
		r = r.neg()
		if r.sign() == 0 {
			r.r = new(big.Rat) // keep the digits: -0.0 prints as 0.0
		}
		return r, true
	}
	half := decimal{r: new(big.Rat).SetFrac(big.NewInt(5), pow10(x.scale+1)), scale: x.scale + 1}
	if high {
		return x.add(half).round(digits), true
	}
	return x.sub(half).truncate(digits), true
}

func fnPrecision(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	if len(in) != 1 {
		return nil, nil
	}
	v, ok := system(in[0])
	if !ok {
		return nil, nil
	}
	switch d := v.data.(type) {
	case decimal:
		return Collection{intValue(int64(d.scale))}, nil
	case int64:
		return Collection{intValue(0)}, nil
	case dateTime:
		return Collection{intValue(int64(d.precisionDigits()))}, nil
	case quantity:
		return Collection{intValue(int64(d.Value.scale))}, nil
	}
	return nil, nil
}

func fnComparable(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
	if len(in) != 1 || len(a[0]) != 1 {
		return nil, nil
	}
	x, ok1 := toQuantity(in[0])
	y, ok2 := toQuantity(a[0][0])
	if !ok1 || !ok2 {
		return nil, nil
	}
	_, _, ok := convertQuantities(x, y)
	return boolCollection(ok), nil
}

func fnNow(e *evaluator, _ *node, _ Collection, _ []Collection) (Collection, error) {
	return Collection{Value{typ: typeDateTime, data: dateTimeFromTime(e.clock(), pMillis)}}, nil
}

func fnToday(e *evaluator, _ *node, _ Collection, _ []Collection) (Collection, error) {
	d := dateTimeFromTime(e.clock(), pDay)
	d.kind, d.hasTZ = kDate, false
	return Collection{Value{typ: typeDate, data: d}}, nil
}

func fnTimeOfDay(e *evaluator, _ *node, _ Collection, _ []Collection) (Collection, error) {
	d := dateTimeFromTime(e.clock(), pMillis)
	d.kind, d.hasTZ = kTime, false
	return Collection{Value{typ: typeTime, data: d}}, nil
}

// htmlEscaper escapes the characters HTML gives meaning to, with named entities.
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;")
