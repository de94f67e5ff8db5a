package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"time"
)

// Email sends notices by SMTP (RFC 5321) through the mail server at Addr
// (host:port), from From. It upgrades to TLS when the server offers
// STARTTLS and signs in with Username and Password when set (PLAIN, which
// net/smtp allows only over TLS or to localhost). A 5xx answer is a
// permanent refusal; anything else that fails is tried again later.
type Email struct {
	Addr     string
	From     string
	Username string
	Password string
	Subject  Message       // the subject line; "" for the default
	Timeout  time.Duration // per message; 0 for 30 seconds
}

// defaultSubject is the subject line when none is configured.
var defaultSubject = Message{English: "eHealth+ notice", Chinese: "醫健通+ 通知"}

// Name is ChannelEmail.
func (e *Email) Name() string { return ChannelEmail }

// Send mails d to its address.
func (e *Email) Send(ctx context.Context, d Delivery) (string, error) {
	to, err := mail.ParseAddress(d.Address)
	if err != nil {
		return "", Permanent(fmt.Errorf("email: Communication/%s: recipient address: %w", d.Communication, err))
	}
	from, err := mail.ParseAddress(e.From)
	if err != nil {
		return "", Permanent(fmt.Errorf("email: sender address %q: %w", e.From, err))
	}
	msg, err := e.message(from, to, d)
	if err != nil {
		return "", fmt.Errorf("email: compose Communication/%s: %w", d.Communication, err)
	}
	if err := e.deliver(ctx, from.Address, to.Address, msg); err != nil {
		var reply *textproto.Error
		if errors.As(err, &reply) && reply.Code >= 500 {
			err = Permanent(err)
		}
		return "", fmt.Errorf("email: send Communication/%s: %w", d.Communication, err)
	}
	return "sent by email to " + d.Recipient, nil
}

// message is the RFC 5322 message: both languages, UTF-8, quoted-printable.
func (e *Email) message(from, to *mail.Address, d Delivery) ([]byte, error) {
	subject := e.Subject
	if subject == (Message{}) {
		subject = defaultSubject
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\n", from, to)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject.English+" / "+subject.Chinese))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "X-Ehealth-Reference: Communication/%s\r\n", d.Communication)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	w := quotedprintable.NewWriter(&b)
	if _, err := w.Write([]byte(d.Message.text())); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

// deliver runs one SMTP session, bounded by ctx and the timeout.
func (e *Email) deliver(ctx context.Context, from, to string, msg []byte) error {
	timeout := e.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", e.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	host, _, _ := net.SplitHostPort(e.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if e.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.Username, e.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
