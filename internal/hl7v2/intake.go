package hl7v2

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
)

// Deposit stores a converted transaction Bundle, all or nothing.
type Deposit func(ctx context.Context, bundle map[string]any) error

// Intake receives lab results: it parses a message, converts it, deposits
// the Bundle and answers with the ACK. Its Handle is the handler of both
// the MLLP Server and the HTTP endpoint.
type Intake struct {
	Options Options
	Deposit Deposit
	// Now and ControlID make the ACK's MSH-7 and MSH-10; time.Now and a
	// time-based id when nil.
	Now       func() time.Time
	ControlID func() string
}

// Handle processes one message and returns its ACK. Nothing is deposited
// unless the whole message converted, and the deposit is one transaction,
// so a rejected message leaves nothing half-stored.
func (in *Intake) Handle(ctx context.Context, raw []byte) []byte {
	now := time.Now
	if in.Now != nil {
		now = in.Now
	}
	at := now()
	id := "ACK" + at.UTC().Format("20060102150405.000000")
	if in.ControlID != nil {
		id = in.ControlID()
	}
	msg, err := Parse(raw)
	if err != nil {
		return Ack(nil, raw, err, id, at)
	}
	return Ack(msg, raw, in.process(ctx, msg), id, at)
}

func (in *Intake) process(ctx context.Context, msg *Message) error {
	bundle, err := ConvertORU(msg, in.Options)
	if err != nil {
		return err
	}
	if in.Deposit == nil {
		return nil
	}
	if err := in.Deposit(ctx, bundle); err != nil {
		return &Error{Code: CodeInternal, Msg: depositMessage(err)}
	}
	return nil
}

// depositMessage is what the sender is told of a refused deposit: the
// issues of a platform error (with their FHIR paths), never the text of an
// internal one.
func depositMessage(err error) string {
	var e *outcome.Error
	if !errors.As(err, &e) || e.Kind == outcome.Internal || len(e.Issues) == 0 {
		return "the results could not be stored (internal error); nothing was stored"
	}
	var msgs []string
	for _, is := range e.Issues {
		m := is.Message
		if is.Expression != "" {
			m += " (at " + is.Expression + ")"
		}
		msgs = append(msgs, m)
	}
	return "refused, nothing was stored: " + strings.Join(msgs, "; ")
}
