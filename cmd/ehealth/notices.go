package main

import (
	"context"
	"flag"
	"log/slog"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/platform"
)

// noticeFlags configure how serve delivers the notices in the outbox.
type noticeFlags struct {
	smsURL, smsToken           string
	smtp, from, user, password string
	demo                       bool
	poll                       time.Duration
	attempts                   int
}

// addNoticeFlags declares the notice delivery flags on fs.
func addNoticeFlags(fs *flag.FlagSet) *noticeFlags {
	f := &noticeFlags{}
	fs.StringVar(&f.smsURL, "notify-sms-url", "", "SMS gateway URL notices are POSTed to as JSON {to,text,reference}; empty: no SMS")
	fs.StringVar(&f.smsToken, "notify-sms-token", "", "bearer token for the SMS gateway")
	fs.StringVar(&f.smtp, "notify-smtp", "", "mail server HOST:PORT for email notices; empty: no email")
	fs.StringVar(&f.from, "notify-smtp-from", "eHealth+ <notices@ehealth.hk>", "sender of email notices")
	fs.StringVar(&f.user, "notify-smtp-user", "", "SMTP user (PLAIN, over TLS)")
	fs.StringVar(&f.password, "notify-smtp-password", "", "SMTP password")
	fs.BoolVar(&f.demo, "notify-demo", false, "demo mode: notices are not sent; each Communication notes what would have gone (never in production)")
	fs.DurationVar(&f.poll, "notify-poll", 5*time.Second, "how often pending notices are looked for")
	fs.IntVar(&f.attempts, "notify-attempts", 10, "delivery attempts before a notice is stopped")
	return f
}

// startNotices starts the delivery worker for the platform on database db
// (its job queue: river's tables in the PostgreSQL database, or a queue
// file beside the SQLite one). The returned func stops it.
func startNotices(ctx context.Context, p *platform.Platform, db string, f *noticeFlags, log *slog.Logger) (func(), error) {
	q := notify.Queue{Postgres: db}
	if path, ok := strings.CutPrefix(db, "sqlite:"); ok {
		q = notify.Queue{SQLite: notify.SQLiteQueuePath(strings.TrimPrefix(path, "//"))}
	}
	var chans []notify.Channel
	if f.smsURL != "" {
		chans = append(chans, &notify.SMS{URL: f.smsURL, Token: f.smsToken})
	}
	if f.smtp != "" {
		chans = append(chans, &notify.Email{Addr: f.smtp, From: f.from, Username: f.user, Password: f.password})
	}
	w, err := notify.New(ctx, p.Service, notify.Config{Queue: q, Channels: chans, Demo: f.demo, Poll: f.poll, MaxAttempts: f.attempts, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := w.Start(ctx); err != nil {
		return nil, err
	}
	p.OnNotice(w.Kick)
	return func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := w.Stop(stopCtx); err != nil {
			log.Warn("stopping the notice worker", "err", err)
		}
	}, nil
}
