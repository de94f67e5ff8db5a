package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Marshal encodes a resource in its generic form as compact FHIR JSON:
// resourceType first, then the elements in definition order (unknown keys
// last, sorted), json.Number written verbatim and no HTML escaping, so
// narrative "<div>" stays literal.
func Marshal(res map[string]any) ([]byte, error) {
	e := encoder{ix: index(), buf: make([]byte, 0, 1024)}
	if err := e.object(res, nil); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// MarshalIndent is like Marshal but indents its output as json.MarshalIndent does.
func MarshalIndent(res map[string]any, prefix, indent string) ([]byte, error) {
	b, err := Marshal(res)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(b) * 2)
	if err := json.Indent(&out, b, prefix, indent); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

type encoder struct {
	ix   *modelIndex
	buf  []byte
	keys []orderedKey // scratch space shared by nested objects
}

// orderedKey is a key with its rank: resourceType, then definition order,
// then unknown keys (alphabetically).
type orderedKey struct {
	rank int
	key  string
}

const unknownRank = 1 << 30

// object writes obj; n is the model node of obj (nil when unknown or when obj
// is a resource, whose node is found from its resourceType).
func (e *encoder) object(obj map[string]any, n *node) error {
	if rt, ok := obj["resourceType"].(string); ok && n == nil {
		n = e.ix.nodes[rt]
	}
	start := len(e.keys)
	for k := range obj {
		rank := unknownRank
		if k == "resourceType" {
			rank = -1
		} else if n != nil {
			if r, ok := n.order[k]; ok {
				rank = r
			}
		}
		e.keys = append(e.keys, orderedKey{rank, k})
	}
	keys := e.keys[start:]
	slices.SortFunc(keys, func(a, b orderedKey) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return strings.Compare(a.key, b.key)
	})
	e.buf = append(e.buf, '{')
	for i, ok := range keys {
		k := ok.key
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.str(k)
		e.buf = append(e.buf, ':')
		var child *node
		if n != nil {
			if f := n.fields[k]; f != nil {
				child = f.child
			}
		}
		if err := e.value(obj[k], child); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	e.buf = append(e.buf, '}')
	e.keys = e.keys[:start]
	return nil
}

func (e *encoder) value(v any, n *node) error {
	switch v := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case string:
		e.str(v)
	case bool:
		e.buf = strconv.AppendBool(e.buf, v)
	case json.Number:
		if !isJSONNumber(string(v)) {
			return fmt.Errorf("invalid number %q", string(v))
		}
		e.buf = append(e.buf, v...)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.New("unsupported number NaN/Inf")
		}
		e.buf = strconv.AppendFloat(e.buf, v, 'g', -1, 64)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(v), 10)
	case int64:
		e.buf = strconv.AppendInt(e.buf, v, 10)
	case map[string]any:
		return e.object(v, n)
	case []any:
		e.buf = append(e.buf, '[')
		for i, it := range v {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.value(it, n); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		e.buf = append(e.buf, ']')
	default:
		return e.other(v)
	}
	return nil
}

// other encodes values that are not part of the generic form (typed slices
// and maps built by callers) with encoding/json, keeping HTML unescaped.
func (e *encoder) other(v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	e.buf = append(e.buf, bytes.TrimRight(b.Bytes(), "\n")...)
	return nil
}

const hexDigits = "0123456789abcdef"

// str writes a JSON string, escaping only what JSON requires.
func (e *encoder) str(s string) {
	e.buf = append(e.buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			e.buf = append(e.buf, s[start:i]...)
			e.buf = append(e.buf, `\ufffd`...)
			i++
			start = i
			continue
		}
		e.buf = append(e.buf, s[start:i]...)
		switch c {
		case '"', '\\':
			e.buf = append(e.buf, '\\', c)
		case '\n':
			e.buf = append(e.buf, '\\', 'n')
		case '\r':
			e.buf = append(e.buf, '\\', 'r')
		case '\t':
			e.buf = append(e.buf, '\\', 't')
		default:
			e.buf = append(e.buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	e.buf = append(e.buf, s[start:]...)
	e.buf = append(e.buf, '"')
}

// isJSONNumber reports whether s follows the JSON number grammar, which is
// also the FHIR decimal regex.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		st := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - st
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
