package journal

// Small readers of parsed FHIR JSON.

// get follows keys through nested objects; nil where one is missing.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// str is get as a string ("" when absent or not a string).
func str(v any, keys ...string) string {
	s, _ := get(v, keys...).(string)
	return s
}

// list is v as a JSON array (nil when it is not one).
func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// refOf is a Reference's reference.
func refOf(v any) string { return str(v, "reference") }
