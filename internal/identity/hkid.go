package identity

import "strings"

// parseHKID validates a compacted HKID-format number (upper case, no spaces)
// and returns it as A123456(3). Parentheses around the check digit are
// optional, but if present they must enclose exactly the last character.
func parseHKID(s string) (string, error) {
	if s == "" {
		return "", ruleError(ErrFormat, "empty number")
	}
	if strings.ContainsAny(s, "()") {
		n := len(s)
		if n < 3 || s[n-1] != ')' || s[n-3] != '(' || strings.ContainsAny(s[:n-3], "()") {
			return "", ruleError(ErrFormat, "parentheses must enclose only the check digit, as A123456(3)")
		}
		s = s[:n-3] + s[n-2:n-1]
	}
	letters := 0
	for letters < len(s) && isUpper(s[letters]) {
		letters++
	}
	switch {
	case letters == 0:
		return "", ruleError(ErrFormat, "must start with 1 or 2 letters A-Z")
	case letters > 2:
		return "", ruleError(ErrFormat, "must start with 1 or 2 letters A-Z, not %d", letters)
	}
	if letters == len(s) {
		return "", ruleError(ErrFormat, "want 6 digits and a check digit after the letters")
	}
	body, check := s[:len(s)-1], s[len(s)-1]
	if len(body)-letters != 6 || !allIn(body[letters:], isDigit) {
		return "", ruleError(ErrFormat, "want exactly 6 digits after the letters and then a check digit")
	}
	if !isDigit(check) && check != 'A' {
		return "", ruleError(ErrFormat, "check digit must be 0-9 or A, not %q", check)
	}
	if want := hkidCheckDigit(body); check != want {
		return "", ruleError(ErrCheckDigit, "check digit is %c, the number gives %c", check, want)
	}
	return body + "(" + string(check) + ")", nil
}

// hkidCheckDigit computes the check digit of body: 1 or 2 letters A-Z then
// 6 digits, already validated. See the package documentation for the rule.
func hkidCheckDigit(body string) byte {
	sum := 0
	weight := 9
	if len(body) == 7 { // one letter: a leading space worth 36
		sum += 36 * weight
		weight--
	}
	for i := 0; i < len(body); i++ {
		v := int(body[i] - '0')
		if isUpper(body[i]) {
			v = int(body[i]-'A') + 10
		}
		sum += v * weight
		weight--
	}
	switch r := sum % 11; r {
	case 0:
		return '0'
	case 1:
		return 'A'
	default:
		return byte('0' + 11 - r)
	}
}
