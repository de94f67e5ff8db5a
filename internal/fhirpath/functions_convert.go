package fhirpath

import (
	"fmt"
	"strconv"
	"strings"
)

func init() {
	register(map[string]*function{
		// conversion (https://hl7.org/fhirpath/N1/#conversion)
		"toBoolean":          {eager: convertFn(convBoolean, false)},
		"convertsToBoolean":  {eager: convertFn(convBoolean, true)},
		"toInteger":          {eager: convertFn(convInteger, false)},
		"convertsToInteger":  {eager: convertFn(convInteger, true)},
		"toDecimal":          {eager: convertFn(convDecimal, false)},
		"convertsToDecimal":  {eager: convertFn(convDecimal, true)},
		"toString":           {eager: convertFn(convString, false)},
		"convertsToString":   {eager: convertFn(convString, true)},
		"toDate":             {eager: convertFn(convTemporal(kDate), false)},
		"convertsToDate":     {eager: convertFn(convTemporal(kDate), true)},
		"toDateTime":         {eager: convertFn(convTemporal(kDateTime), false)},
		"convertsToDateTime": {eager: convertFn(convTemporal(kDateTime), true)},
		"toTime":             {eager: convertFn(convTemporal(kTime), false)},
		"convertsToTime":     {eager: convertFn(convTemporal(kTime), true)},
		"toQuantity":         {max: 1, eager: quantityFn(false)},
		"convertsToQuantity": {max: 1, eager: quantityFn(true)},
		// date and time components (FHIRPath 2.1, https://build.fhir.org/ig/HL7/FHIRPath/#date-and-time-functions)
		"yearOf":           {eager: componentFn(pYear, func(d dateTime) int { return d.year })},
		"monthOf":          {eager: componentFn(pMonth, func(d dateTime) int { return d.month })},
		"dayOf":            {eager: componentFn(pDay, func(d dateTime) int { return d.day })},
		"hourOf":           {eager: componentFn(pHour, func(d dateTime) int { return d.hour })},
		"minuteOf":         {eager: componentFn(pMinute, func(d dateTime) int { return d.minute })},
		"secondOf":         {eager: componentFn(pSecond, func(d dateTime) int { return d.second })},
		"millisecondOf":    {eager: componentFn(pMillis, func(d dateTime) int { return d.ms })},
		"timezoneOffsetOf": {eager: fnTimezoneOffsetOf},
		"dateOf":           {eager: fnDateOf},
		"timeOf":           {eager: fnTimeOf},
	})
}

// singleTemporal returns the single Date, DateTime or Time input.
func singleTemporal(in Collection) (dateTime, bool, error) {
	if len(in) == 0 {
		return dateTime{}, false, nil
	}
	if len(in) > 1 {
		return dateTime{}, false, errNotSingleton
	}
	s, ok := system(in[0])
	d, isDT := s.data.(dateTime)
	if !ok || !isDT {
		return dateTime{}, false, fmt.Errorf("expected a date or time, not %s", in[0].typ)
	}
	return d, true, nil
}

// componentFn extracts one component, empty when the value is less precise.
func componentFn(p precision, get func(dateTime) int) func(*evaluator, *node, Collection, []Collection) (Collection, error) {
	return func(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
		d, ok, err := singleTemporal(in)
		if err != nil || !ok || d.prec < p || (d.kind == kTime && p < pHour) {
			return nil, err
		}
		return Collection{intValue(int64(get(d)))}, nil
	}
}

func fnTimezoneOffsetOf(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	d, ok, err := singleTemporal(in)
	if err != nil || !ok || !d.hasTZ {
		return nil, err
	}
	off, _ := decimalFromInt(int64(d.tzMinutes)).div(decimalFromInt(60))
	return Collection{decimalValue(off)}, nil
}

func fnDateOf(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	d, ok, err := singleTemporal(in)
	if err != nil || !ok || d.kind == kTime {
		return nil, err
	}
	d.kind, d.prec, d.hasTZ = kDate, min(d.prec, pDay), false
	return Collection{Value{typ: typeDate, data: d}}, nil
}

func fnTimeOf(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
	d, ok, err := singleTemporal(in)
	if err != nil || !ok || d.kind != kDateTime || d.prec < pHour {
		return nil, err
	}
	d.kind, d.hasTZ = kTime, false
	return Collection{Value{typ: typeTime, data: d}}, nil
}

// convertFn makes toX (test=false) and convertsToX (test=true) from a conversion.
func convertFn(conv func(Value) (Value, bool), test bool) func(*evaluator, *node, Collection, []Collection) (Collection, error) {
	return func(_ *evaluator, _ *node, in Collection, _ []Collection) (Collection, error) {
		if len(in) == 0 {
			return nil, nil
		}
		if len(in) > 1 {
			return nil, errNotSingleton
		}
		s, ok := system(in[0])
		var r Value
		if ok {
			r, ok = conv(s)
		}
		if test {
			return boolCollection(ok), nil
		}
		if !ok {
			return nil, nil
		}
		return Collection{r}, nil
	}
}

func convBoolean(v Value) (Value, bool) {
	switch d := v.data.(type) {
	case bool:
		return v, true
	case int64:
		if d == 0 || d == 1 {
			return boolValue(d == 1), true
		}
	case decimal:
		if d.cmp(decimalFromInt(0)) == 0 || d.cmp(decimalFromInt(1)) == 0 {
			return boolValue(d.sign() != 0), true
		}
	case string:
		switch strings.ToLower(d) {
		case "true", "t", "yes", "y", "1", "1.0":
			return boolValue(true), true
		case "false", "f", "no", "n", "0", "0.0":
			return boolValue(false), true
		}
	}
	return Value{}, false
}

func convInteger(v Value) (Value, bool) {
	switch d := v.data.(type) {
	case int64:
		return v, true
	case bool:
		if d {
			return intValue(1), true
		}
		return intValue(0), true
	case string:
		s := strings.TrimPrefix(d, "+")
		if s == "" || !allDigits(strings.TrimPrefix(s, "-")) {
			return Value{}, false
		}
		i, err := strconv.ParseInt(s, 10, 64)
		return intValue(i), err == nil
	}
	return Value{}, false
}

func convDecimal(v Value) (Value, bool) {
	switch d := v.data.(type) {
	case decimal:
		return v, true
	case int64:
		return decimalValue(decimalFromInt(d)), true
	case bool:
		if d {
			return decimalValue(decimalFromInt(1)), true
		}
		return decimalValue(decimalFromInt(0)), true
	case string:
		if strings.ContainsAny(d, "eE") {
			return Value{}, false
		}
		x, ok := parseDecimal(strings.TrimPrefix(d, "+"))
		return decimalValue(x), ok
	}
	return Value{}, false
}

func convString(v Value) (Value, bool) {
	s, ok := toStringValue(v)
	return stringValue(s), ok
}

func convTemporal(k sysKind) func(Value) (Value, bool) {
	return func(v Value) (Value, bool) {
		switch d := v.data.(type) {
		case string:
			if k == kDateTime {
				dt, err := parseDateTime(strings.TrimSuffix(d, "T"), kDateTime)
				return Value{typ: typeDateTime, data: dt}, err == nil
			}
			return parseTemporal(d, k)
		case dateTime:
			switch {
			case d.kind == k:
				return v, true
			case k == kDateTime && d.kind == kDate:
				d.kind = kDateTime
				return Value{typ: typeDateTime, data: d}, true
			case k == kDate && d.kind == kDateTime:
				d.kind, d.prec, d.hasTZ = kDate, min(d.prec, pDay), false
				return Value{typ: typeDate, data: d}, true
			}
		}
		return Value{}, false
	}
}

// quantityFn makes toQuantity and convertsToQuantity, with an optional target unit.
func quantityFn(test bool) func(*evaluator, *node, Collection, []Collection) (Collection, error) {
	return func(_ *evaluator, _ *node, in Collection, a []Collection) (Collection, error) {
		if len(in) == 0 {
			return nil, nil
		}
		if len(in) > 1 {
			return nil, errNotSingleton
		}
		q, ok := toQuantity(in[0])
		if ok && len(a) == 1 {
			unit, has, err := singletonString(a[0])
			if err != nil {
				return nil, err
			}
			if has {
				q, ok = convertTo(q, unit)
			}
		}
		if test {
			return boolCollection(ok), nil
		}
		if !ok {
			return nil, nil
		}
		return Collection{quantityValue(q)}, nil
	}
}

func toQuantity(v Value) (quantity, bool) {
	s, ok := system(v)
	if !ok {
		return quantity{}, false
	}
	switch d := s.data.(type) {
	case quantity:
		return d, true
	case int64:
		return quantity{Value: decimalFromInt(d), Unit: "1"}, true
	case decimal:
		return quantity{Value: d, Unit: "1"}, true
	case bool:
		return quantity{Value: decimalFromInt(map[bool]int64{false: 0, true: 1}[d]), Unit: "1"}, true
	case string:
		return parseQuantityString(d)
	}
	return quantity{}, false
}
