package rest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/hl7v2"
)

// DepositHL7v2 deposits one HL7 v2 message as the system whose claims are
// given and returns the ACK: exactly what POST /hl7v2 does for a request
// carrying a token with these claims (the same conversion and linking to
// the citizen, the same consent and scope checks, the same audit, named
// after the client, with remote as the client's address; the same ACK).
// It serves the MLLP listener, whose connections carry no token: the
// command binds it to a registered system client and checks, before each
// message, that the client and its provider are still active. Without
// Config.HL7v2 every message is refused (AR).
func (a *API) DepositHL7v2(ctx context.Context, claims token.Claims, remote string, raw []byte) []byte {
	if a.cfg.HL7v2 == nil {
		m, _ := hl7v2.Parse(raw)
		refused := &hl7v2.Error{Code: hl7v2.CodeInternal, Msg: "this server does not take HL7 v2 messages", Reject: true}
		return hl7v2.Ack(m, raw, refused, "ACK"+time.Now().UTC().Format("20060102150405.000000"), time.Now())
	}
	ctx = context.WithValue(ctx, requestIDKey{}, newRequestID())
	ctx = context.WithValue(ctx, claimsKey{}, claims)
	r := (&http.Request{Method: http.MethodPost, URL: &url.URL{Path: HL7v2Path}, RemoteAddr: remote,
		Header: http.Header{"Content-Type": {"application/hl7-v2"}}, Body: io.NopCloser(bytes.NewReader(raw))}).WithContext(ctx)
	r = r.WithContext(a.auditingWrites(r))
	var w ackWriter
	a.hl7v2Message(&w, r)
	return w.body.Bytes()
}

// ackWriter keeps what hl7v2Message writes: the ACK (its status is always
// 200 for a body read from memory in the type it takes).
type ackWriter struct {
	header http.Header
	body   bytes.Buffer
}

func (w *ackWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}

func (w *ackWriter) Write(b []byte) (int, error) { return w.body.Write(b) }

func (w *ackWriter) WriteHeader(int) {}
