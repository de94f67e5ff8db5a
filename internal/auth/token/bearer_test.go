package token

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

func TestFromRequest(t *testing.T) {
	const tok = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	cases := []struct {
		name    string
		url     string
		headers []string // Authorization values
		want    string   // the token, when accepted
		kind    outcome.Kind
		code    string // the challenge's error code
	}{
		{name: "bearer", headers: []string{"Bearer " + tok}, want: tok},
		{name: "scheme in any case", headers: []string{"bEARER " + tok}, want: tok},
		{name: "padding and b64token characters", headers: []string{"Bearer a-b.c_d~e+f/g=="}, want: "a-b.c_d~e+f/g=="},
		{name: "other query parameters", url: "/fhir/Patient?name=access_token_x", headers: []string{"Bearer " + tok}, want: tok},
		{name: "no credentials", kind: outcome.Unauthorized, code: ""},
		{name: "basic", headers: []string{"Basic dXNlcjpwYXNz"}, kind: outcome.Unauthorized, code: ""},
		{name: "token in the query", url: "/fhir/Patient?access_token=" + tok, kind: outcome.Invalid, code: CodeInvalidRequest},
		{name: "token in the query and the header", url: "/fhir/Patient?_count=1&access_token=" + tok, headers: []string{"Bearer " + tok}, kind: outcome.Invalid, code: CodeInvalidRequest},
		{name: "two headers", headers: []string{"Bearer " + tok, "Bearer " + tok}, kind: outcome.Invalid, code: CodeInvalidRequest},
		{name: "empty token", headers: []string{"Bearer "}, kind: outcome.Unauthorized, code: CodeInvalidToken},
		{name: "scheme alone", headers: []string{"Bearer"}, kind: outcome.Unauthorized, code: CodeInvalidToken},
		{name: "space inside", headers: []string{"Bearer abc def"}, kind: outcome.Unauthorized, code: CodeInvalidToken},
		{name: "quote inside", headers: []string{`Bearer abc"def`}, kind: outcome.Unauthorized, code: CodeInvalidToken},
		{name: "only padding", headers: []string{"Bearer =="}, kind: outcome.Unauthorized, code: CodeInvalidToken},
		{name: "padding inside", headers: []string{"Bearer ab=c"}, kind: outcome.Unauthorized, code: CodeInvalidToken},
		{name: "too long", headers: []string{"Bearer " + strings.Repeat("a", maxTokenLen+1)}, kind: outcome.Unauthorized, code: CodeInvalidToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.url
			if url == "" {
				url = "/fhir/Patient/1"
			}
			r := httptest.NewRequest("GET", url, nil)
			for _, h := range tc.headers {
				r.Header.Add("Authorization", h)
			}
			got, err := FromRequest(r)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %q", got)
			}
			var p *Problem
			if outcome.KindOf(err) != tc.kind || !errors.As(err, &p) || p.Code != tc.code {
				t.Errorf("error %v (kind %v): want kind %v with code %q", err, outcome.KindOf(err), tc.kind, tc.code)
			}
		})
	}
}

func TestChallenge(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"no credentials", deny(outcome.Unauthorized, "", "no access token"), `Bearer realm="eHealth+"`},
		{"invalid token", invalidToken("the token has expired"),
			`Bearer realm="eHealth+", error="invalid_token", error_description="the token has expired"`},
		{"quotes and controls are replaced", invalidToken("issued by %q\n\\", "x"),
			`Bearer realm="eHealth+", error="invalid_token", error_description="issued by ?x???"`},
		{"invalid request", deny(outcome.Invalid, CodeInvalidRequest, "token in the query"),
			`Bearer realm="eHealth+", error="invalid_request", error_description="token in the query"`},
		{"another error", errors.New("database down"), `Bearer realm="eHealth+"`},
		{"nil", nil, `Bearer realm="eHealth+"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Challenge("eHealth+", tc.err); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
