package notify

import (
	"context"
	"errors"
	"fmt"
)

// The channels a notice goes out through; the codes are those a citizen
// chooses with $notice-channels.
const (
	ChannelApp   = "app"   // the Communication itself, in the citizen's inbox
	ChannelSMS   = "sms"   // a text message to the recipient's mobile number
	ChannelEmail = "email" // an email to the recipient's address
)

// channelCodes are the valid choices, in the order deliveries are made.
var channelCodes = []string{ChannelApp, ChannelSMS, ChannelEmail}

// Delivery is one notice to one recipient through one channel.
type Delivery struct {
	Communication string  // the notice's Communication id
	Kind          string  // the notice's kind (KindConsentGiven …)
	Patient       string  // the Patient id the notice is about
	Recipient     string  // "Patient/ID" or "RelatedPerson/ID"
	Address       string  // the mobile number (sms) or email address (email); "" for the app
	Message       Message // what the notice says
}

// Channel sends deliveries by one means: an adapter to a gateway, a mail
// server, or the app.
type Channel interface {
	// Name is the channel's code (ChannelSMS …), as citizens choose it.
	Name() string
	// Send delivers d. The note, when not "", is recorded on the
	// Communication once the notice is completed. An error makes the
	// worker try again later, unless it is Permanent.
	Send(ctx context.Context, d Delivery) (note string, err error)
}

// PermanentError is a failure that retrying cannot mend (the gateway
// refused the number, the mail server the address): the notice is stopped
// at once instead of retried.
type PermanentError struct{ Err error }

// Error describes the failure.
func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as a failure retrying cannot mend.
func Permanent(err error) error { return &PermanentError{Err: err} }

// isPermanent reports whether err, or one it wraps, is Permanent.
func isPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// App is the app channel: the notice is the Communication in the
// citizen's inbox, so it is delivered once the Communication is stored.
type App struct{}

// Name is ChannelApp.
func (App) Name() string { return ChannelApp }

// Send has nothing to do: the Communication is the delivery.
func (App) Send(context.Context, Delivery) (string, error) { return "", nil }

// Demo stands in for a channel in demo mode: it sends nothing, and the
// note it leaves on the Communication says what would have gone where, so
// an operator sees every notice with an ordinary search of Communication.
type Demo struct{ Channel string }

// Name is the channel Demo stands in for.
func (d Demo) Name() string { return d.Channel }

// Send records the delivery in the demo outbox (the Communication's note).
func (d Demo) Send(_ context.Context, dl Delivery) (string, error) {
	return fmt.Sprintf("demo outbox: kept here instead of sending by %s to %s (%s)", d.Channel, dl.Address, dl.Recipient), nil
}

// text is the body of a message: English, then Chinese.
func (m Message) text() string {
	switch {
	case m.Chinese == "":
		return m.English
	case m.English == "":
		return m.Chinese
	}
	return m.English + "\n\n" + m.Chinese
}
