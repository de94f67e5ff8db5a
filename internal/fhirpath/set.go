package fhirpath

// itemSet answers "is an item equal (=) to v already in the set" in
// constant time for strings, numbers and booleans, the items large
// collections are made of, and by a linear scan for the rest. It keeps
// distinct(), union() and friends linear on big inputs.
type itemSet struct {
	keys   map[string]struct{}
	others Collection
}

// hashKey gives items that are equal exactly when their keys are equal;
// ok is false for items compared some other way (dates, quantities, elements).
func hashKey(v Value) (string, bool) {
	s, ok := system(v)
	if !ok {
		return "", false
	}
	switch d := s.data.(type) {
	case string:
		return "s" + d, true
	case bool:
		if d {
			return "bt", true
		}
		return "bf", true
	case int64:
		return "n" + decimalFromInt(d).r.RatString(), true
	case decimal:
		return "n" + d.r.RatString(), true
	}
	return "", false
}

func (s *itemSet) has(v Value) bool {
	if k, ok := hashKey(v); ok {
		_, found := s.keys[k]
		return found
	}
	return contains(s.others, v)
}

func (s *itemSet) add(v Value) {
	if k, ok := hashKey(v); ok {
		if s.keys == nil {
			s.keys = map[string]struct{}{}
		}
		s.keys[k] = struct{}{}
		return
	}
	s.others = append(s.others, v)
}

// newItemSet holds the items of c.
func newItemSet(c Collection) *itemSet {
	s := &itemSet{}
	for _, v := range c {
		s.add(v)
	}
	return s
}
