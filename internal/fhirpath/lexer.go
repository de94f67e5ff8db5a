package fhirpath

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind classifies a token of the FHIRPath grammar
// (https://hl7.org/fhirpath/N1/grammar.html).
type tokKind uint8

const (
	tEOF     tokKind = iota
	tIdent           // name or `delimited name`
	tString          // 'text', unescaped
	tNumber          // 12 or 1.5
	tDate            // @2015-02-04 or @2015-02-04T14:34 (text without @)
	tTime            // @T14:34 (text without @T)
	tVar             // %name or %`name` or %'name'
	tSpecial         // $this, $index, $total
	tOp              // punctuation and operator symbols
)

// token is one lexeme with its position (1-based line and column).
type token struct {
	kind      tokKind
	text      string
	delimited bool // identifier written with backticks: never a keyword
	pos       Pos
}

// Pos is a position in an expression: 1-based line and column (in runes).
type Pos struct{ Line, Col int }

// String formats the position as line:column.
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// SyntaxError reports an expression that does not parse, with where.
type SyntaxError struct {
	Pos Pos
	Msg string
}

// Error formats the message with its line and column.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("fhirpath: syntax error at line %d, column %d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
}

// lexer turns the expression text into tokens on demand.
type lexer struct {
	src       string
	off       int
	line, col int
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, col: 1} }

func (l *lexer) errorf(p Pos, format string, args ...any) error {
	return &SyntaxError{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

func (l *lexer) peekByte(i int) byte {
	if l.off+i < len(l.src) {
		return l.src[l.off+i]
	}
	return 0
}

// advance moves over n bytes, keeping line and column.
func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); {
		r, size := utf8.DecodeRuneInString(l.src[l.off:])
		l.off += size
		i += size
		if r == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
	}
}

func (l *lexer) pos() Pos { return Pos{l.line, l.col} }

// skipSpace skips white space and // and /* */ comments.
func (l *lexer) skipSpace() error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f':
			l.advance(1)
		case c == '/' && l.peekByte(1) == '/':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
		case c == '/' && l.peekByte(1) == '*':
			p := l.pos()
			end := strings.Index(l.src[l.off+2:], "*/")
			if end < 0 {
				return l.errorf(p, "unterminated comment")
			}
			l.advance(end + 4)
		default:
			return nil
		}
	}
	return nil
}

// twoCharOps are the operators of two characters; one-character ones are in oneCharOps.
var twoCharOps = []string{"<=", ">=", "!=", "!~"}

const oneCharOps = ".,()[]{}+-*/&|<>=~"

// next returns the next token.
func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: p}, nil
	}
	c := l.src[l.off]
	switch {
	case isIdentStart(c):
		s := l.off
		for l.off < len(l.src) && isIdentPart(l.src[l.off]) {
			l.advance(1)
		}
		return token{kind: tIdent, text: l.src[s:l.off], pos: p}, nil
	case c == '`':
		s, err := l.quoted('`')
		if err == nil && s == "" {
			err = l.errorf(p, "empty identifier")
		}
		return token{kind: tIdent, text: s, delimited: true, pos: p}, err
	case c == '\'':
		s, err := l.quoted('\'')
		return token{kind: tString, text: s, pos: p}, err
	case c >= '0' && c <= '9':
		return l.number(p), nil
	case c == '@':
		return l.dateTime(p)
	case c == '%':
		l.advance(1)
		switch l.peekByte(0) {
		case '`':
			s, err := l.quoted('`')
			return token{kind: tVar, text: s, pos: p}, err
		case '\'':
			s, err := l.quoted('\'')
			return token{kind: tVar, text: s, pos: p}, err
		}
		s := l.off
		for l.off < len(l.src) && (isIdentPart(l.src[l.off]) || l.src[l.off] == '-') {
			l.advance(1)
		}
		if s == l.off {
			return token{}, l.errorf(p, "expected a name after %%")
		}
		return token{kind: tVar, text: l.src[s:l.off], pos: p}, nil
	case c == '$':
		l.advance(1)
		s := l.off
		for l.off < len(l.src) && isIdentPart(l.src[l.off]) {
			l.advance(1)
		}
		name := l.src[s:l.off]
		if name != "this" && name != "index" && name != "total" {
			return token{}, l.errorf(p, "unknown special variable $%s", name)
		}
		return token{kind: tSpecial, text: name, pos: p}, nil
	}
	for _, op := range twoCharOps {
		if strings.HasPrefix(l.src[l.off:], op) {
			l.advance(2)
			return token{kind: tOp, text: op, pos: p}, nil
		}
	}
	if strings.IndexByte(oneCharOps, c) >= 0 {
		l.advance(1)
		return token{kind: tOp, text: l.src[l.off-1 : l.off], pos: p}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	return token{}, l.errorf(p, "unexpected character %q", r)
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// quoted reads a string or delimited identifier and unescapes it.
func (l *lexer) quoted(q byte) (string, error) {
	p := l.pos()
	l.advance(1)
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return "", l.errorf(p, "unterminated %c", q)
		}
		c := l.src[l.off]
		if c == q {
			l.advance(1)
			return b.String(), nil
		}
		if c != '\\' {
			r, size := utf8.DecodeRuneInString(l.src[l.off:])
			b.WriteRune(r)
			l.advance(size)
			continue
		}
		e := l.peekByte(1)
		switch e {
		case '\'', '"', '`', '\\', '/':
			b.WriteByte(e)
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if l.off+6 > len(l.src) {
				return "", l.errorf(l.pos(), "bad unicode escape")
			}
			n, err := strconv.ParseUint(l.src[l.off+2:l.off+6], 16, 32)
			if err != nil {
				return "", l.errorf(l.pos(), "bad unicode escape")
			}
			b.WriteRune(rune(n))
			l.advance(6)
			continue
		default:
			return "", l.errorf(l.pos(), "unknown escape \\%c", e)
		}
		l.advance(2)
	}
}

// number reads an integer or decimal literal (no sign, no exponent).
func (l *lexer) number(p Pos) token {
	s := l.off
	for isDigit(l.peekByte(0)) {
		l.advance(1)
	}
	if l.peekByte(0) == '.' && isDigit(l.peekByte(1)) {
		l.advance(1)
		for isDigit(l.peekByte(0)) {
			l.advance(1)
		}
	}
	return token{kind: tNumber, text: l.src[s:l.off], pos: p}
}

// digits consumes exactly n digits or reports false without moving.
func (l *lexer) digits(n int) bool {
	for i := 0; i < n; i++ {
		if !isDigit(l.peekByte(i)) {
			return false
		}
	}
	l.advance(n)
	return true
}

// dateTime reads @date, @dateTime or @Ttime literals.
func (l *lexer) dateTime(p Pos) (token, error) {
	l.advance(1)
	if l.peekByte(0) == 'T' {
		l.advance(1)
		s := l.off
		if !l.timePart() {
			return token{}, l.errorf(p, "malformed time literal")
		}
		if c := l.peekByte(0); c == 'Z' || c == '+' || c == '-' {
			if l.timeZone() {
				return token{}, l.errorf(p, "a time literal cannot have a time zone")
			}
		}
		return token{kind: tTime, text: l.src[s:l.off], pos: p}, nil
	}
	s := l.off
	if !l.digits(4) {
		return token{}, l.errorf(p, "malformed date literal")
	}
	if l.peekByte(0) == '-' && isDigit(l.peekByte(1)) {
		l.advance(1)
		if !l.digits(2) {
			return token{}, l.errorf(p, "malformed date literal")
		}
		if l.peekByte(0) == '-' && isDigit(l.peekByte(1)) {
			l.advance(1)
			if !l.digits(2) {
				return token{}, l.errorf(p, "malformed date literal")
			}
		}
	}
	if l.peekByte(0) != 'T' {
		return token{kind: tDate, text: l.src[s:l.off], pos: p}, nil
	}
	l.advance(1)
	if isDigit(l.peekByte(0)) {
		if !l.timePart() {
			return token{}, l.errorf(p, "malformed date/time literal")
		}
	}
	l.timeZone()
	return token{kind: tDate, text: l.src[s:l.off], pos: p}, nil
}

// timePart reads hh(:mm(:ss(.fff)?)?)?.
func (l *lexer) timePart() bool {
	if !l.digits(2) {
		return false
	}
	if l.peekByte(0) == ':' && isDigit(l.peekByte(1)) {
		l.advance(1)
		if !l.digits(2) {
			return false
		}
		if l.peekByte(0) == ':' && isDigit(l.peekByte(1)) {
			l.advance(1)
			if !l.digits(2) {
				return false
			}
			if l.peekByte(0) == '.' && isDigit(l.peekByte(1)) {
				l.advance(1)
				for isDigit(l.peekByte(0)) {
					l.advance(1)
				}
			}
		}
	}
	return true
}

// timeZone reads Z or ±hh:mm when present.
func (l *lexer) timeZone() bool {
	switch l.peekByte(0) {
	case 'Z':
		l.advance(1)
		return true
	case '+', '-':
		if isDigit(l.peekByte(1)) && isDigit(l.peekByte(2)) && l.peekByte(3) == ':' && isDigit(l.peekByte(4)) && isDigit(l.peekByte(5)) {
			l.advance(6)
			return true
		}
	}
	return false
}
