package token

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// The error codes of a Bearer challenge (RFC 6750 §3.1).
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
)

// maxTokenLen bounds the tokens read and parsed: ours are well under 2 KiB
// even with long scope strings.
const maxTokenLen = 8 << 10

// Problem is the cause inside every error of this package about a request's
// credentials: the RFC 6750 error code ("" when the request carried no
// token at all) and a description safe to show the client.
type Problem struct {
	Code        string
	Description string
}

func (p *Problem) Error() string {
	if p.Code == "" {
		return "bearer: no token"
	}
	return "bearer " + p.Code
}

// deny returns an outcome error of kind carrying a Problem.
func deny(kind outcome.Kind, code, format string, args ...any) error {
	desc := fmt.Sprintf(format, args...)
	e := outcome.New(kind, "%s", desc)
	e.Op = "authenticate"
	e.Err = &Problem{Code: code, Description: desc}
	return e
}

// invalidToken is the error for a token that is not acceptable: 401, invalid_token.
func invalidToken(format string, args ...any) error {
	return deny(outcome.Unauthorized, CodeInvalidToken, format, args...)
}

// FromRequest returns the access token of an HTTP request, sent as
// "Authorization: Bearer <token>" (RFC 6750 §2.1), the only way this
// server accepts. A token in the URL query (access_token, §2.3) is refused
// with invalid_request (400), because URLs end up in logs and browser
// history; so is more than one Authorization header. A request without
// credentials gets outcome.Unauthorized with no error code, as §3.1 asks.
func FromRequest(r *http.Request) (string, error) {
	if r.URL != nil && strings.Contains(r.URL.RawQuery, "access_token") && r.URL.Query().Has("access_token") {
		return "", deny(outcome.Invalid, CodeInvalidRequest, "access tokens are not accepted in the URL query; send Authorization: Bearer <token>")
	}
	values := r.Header.Values("Authorization")
	switch {
	case len(values) == 0:
		return "", deny(outcome.Unauthorized, "", "no access token: send Authorization: Bearer <token>")
	case len(values) > 1:
		return "", deny(outcome.Invalid, CodeInvalidRequest, "more than one Authorization header")
	}
	scheme, raw, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", deny(outcome.Unauthorized, "", "no access token: the Authorization header is not a Bearer token")
	}
	raw = strings.TrimLeft(raw, " ")
	switch {
	case raw == "":
		return "", invalidToken("the Bearer token is empty")
	case len(raw) > maxTokenLen:
		return "", invalidToken("the token is longer than %d bytes", maxTokenLen)
	case !isToken68(raw):
		return "", invalidToken("the Bearer token has characters a token cannot have")
	}
	return raw, nil
}

// isToken68 reports whether s is b64token (RFC 6750 §2.1):
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
		if !ok {
			return false
		}
	}
	return true
}

// Challenge returns the WWW-Authenticate value for a request that err
// refused (RFC 6750 §3): Bearer realm="…", and, when err carries a
// Problem with a code, error="…" and error_description="…". A nil err or
// one from elsewhere gives the bare challenge.
func Challenge(realm string, err error) string {
	var b strings.Builder
	b.WriteString(`Bearer realm="`)
	b.WriteString(quotable(realm))
	b.WriteByte('"')
	var p *Problem
	if errors.As(err, &p) && p.Code != "" {
		b.WriteString(`, error="`)
		b.WriteString(p.Code)
		b.WriteString(`", error_description="`)
		b.WriteString(quotable(p.Description))
		b.WriteByte('"')
	}
	return b.String()
}

// quotable keeps the characters RFC 6750 §3 allows in a quoted attribute
// value (%x20-21 / %x23-5B / %x5D-7E) and replaces the others with '?'.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s)
}
