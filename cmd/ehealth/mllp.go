package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/hl7v2"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/rest"
)

// mllpConfig is serve's HL7 v2 listener over MLLP: off unless Addr is set.
type mllpConfig struct {
	Addr, Client    string
	TLSCert, TLSKey string
	MaxSize         int
	IdleTimeout     time.Duration
}

func addMLLPFlags(fs *flag.FlagSet) *mllpConfig {
	c := &mllpConfig{}
	fs.StringVar(&c.Addr, "mllp-addr", "", "listen address HOST:PORT for HL7 v2 lab results over MLLP (off when empty)")
	fs.StringVar(&c.Client, "mllp-client", "", "the registered system client (ehealth admin client add --kind system) the MLLP messages are deposited as: its provider and scopes")
	fs.StringVar(&c.TLSCert, "mllp-tls-cert", "", "PEM certificate file: the MLLP listener speaks TLS (with --mllp-tls-key)")
	fs.StringVar(&c.TLSKey, "mllp-tls-key", "", "PEM private key file of --mllp-tls-cert")
	fs.IntVar(&c.MaxSize, "mllp-max-message", hl7v2.DefaultMaxFrame, "largest HL7 v2 message in bytes (answered AR above it)")
	fs.DurationVar(&c.IdleTimeout, "mllp-idle-timeout", 5*time.Minute, "close an MLLP connection idle this long")
	return c
}

// mllpDepositor deposits each message as the system client, exactly as
// POST /hl7v2 does with that client's token (rest.API.DepositHL7v2).
type mllpDepositor struct {
	client    string
	clients   *oauth.Registry
	providers interface {
		Active(ctx context.Context, org string) (bool, error)
	}
	api *rest.API
	log *slog.Logger
}

// errNotAllowed marks a client that may not deposit: unknown, not a
// system client bound to a provider, disabled, or its provider not active.
var errNotAllowed = errors.New("not allowed to deposit")

// systemScopes are what a system client's own token may hold: its
// registration narrowed to system/ scopes, as client_credentials grants.
var systemScopes = scope.MustParse("system/*.cruds")

// claims are the client's token claims as the authorization server would
// issue them for client_credentials, checked now: the client registered,
// a system client bound to a provider, not disabled, its provider active.
func (d *mllpDepositor) claims(ctx context.Context) (token.Claims, error) {
	c, err := d.clients.Get(ctx, d.client)
	if outcome.Is(err, outcome.NotFound) {
		return token.Claims{}, fmt.Errorf("%w: no registered client %q", errNotAllowed, d.client)
	}
	if err != nil {
		return token.Claims{}, fmt.Errorf("client %q: %w", d.client, err)
	}
	switch {
	case c.Kind != oauth.System || c.Org == "":
		return token.Claims{}, fmt.Errorf("%w: client %q is a %s client, not a system client bound to a provider", errNotAllowed, d.client, c.Kind)
	case c.Disabled:
		return token.Claims{}, fmt.Errorf("%w: client %q is disabled", errNotAllowed, d.client)
	}
	set, err := scope.Parse(c.Scope)
	if err != nil {
		return token.Claims{}, fmt.Errorf("client %q: scope: %w", d.client, err)
	}
	active, err := d.providers.Active(ctx, c.Org)
	if err != nil {
		return token.Claims{}, fmt.Errorf("provider %s: %w", c.Org, err)
	}
	if !active {
		return token.Claims{}, fmt.Errorf("%w: provider %s of client %q is not active (unknown or suspended)", errNotAllowed, c.Org, d.client)
	}
	return token.Claims{Subject: c.ID, ClientID: c.ID, Org: c.Org, Scope: scope.Narrow(set, systemScopes)}, nil
}

// handle is the MLLP server's handler: the client is checked again for
// every message (a disabled client or a suspended provider deposits
// nothing more, as its tokens would be refused), then the message is
// deposited as it.
func (d *mllpDepositor) handle(ctx context.Context, raw []byte) []byte {
	claims, err := d.claims(ctx)
	if err != nil {
		d.log.Warn("mllp: message refused", "remote", hl7v2.RemoteAddr(ctx), "client", d.client, "err", err)
		text := "the message could not be processed now (internal error); nothing was stored"
		if errors.Is(err, errNotAllowed) {
			text = "the sending system may not deposit (its client is disabled or its provider suspended); nothing was stored"
		}
		m, _ := hl7v2.Parse(raw)
		now := time.Now()
		return hl7v2.Ack(m, raw, &hl7v2.Error{Code: hl7v2.CodeInternal, Msg: text, Reject: true}, "ACK"+now.UTC().Format("20060102150405.000000"), now)
	}
	return d.api.DepositHL7v2(ctx, claims, hl7v2.RemoteAddr(ctx), raw)
}

// startMLLP starts the MLLP listener when cfg.Addr is set: it refuses to
// start for a client that is unknown, not a system client bound to an
// active provider, or disabled. The returned wait blocks until the
// listener has stopped (when ctx is done) and its connections finished.
func startMLLP(ctx context.Context, cfg *mllpConfig, p *platform.Platform, api *rest.API, stdout io.Writer, log *slog.Logger) (wait func(), err error) {
	if cfg.Addr == "" {
		if cfg.Client != "" || cfg.TLSCert != "" || cfg.TLSKey != "" {
			return nil, errors.New("--mllp-client and --mllp-tls-* need --mllp-addr")
		}
		return func() {}, nil
	}
	if cfg.Client == "" {
		return nil, errors.New("--mllp-addr needs --mllp-client: the system client whose identity messages are deposited as")
	}
	d := &mllpDepositor{client: cfg.Client, clients: oauth.NewRegistry(p.Store), providers: p.Registry, api: api, log: log}
	if _, err := d.claims(ctx); err != nil {
		return nil, fmt.Errorf("--mllp-client: %w", err)
	}
	ln, scheme, err := mllpListen(cfg)
	if err != nil {
		return nil, err
	}
	srv := &hl7v2.Server{Handler: d.handle, MaxSize: cfg.MaxSize, IdleTimeout: cfg.IdleTimeout, Logger: log}
	log.Info("serving HL7 v2 over MLLP", "addr", ln.Addr().String(), "client", cfg.Client, "tls", scheme == "mllps")
	fmt.Fprintf(stdout, "HL7 v2 MLLP listener at %s://%s\n", scheme, ln.Addr())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ctx, ln); err != nil {
			log.Error("mllp listener stopped", "err", err)
		}
	}()
	return func() { <-done }, nil
}

// mllpListen listens on cfg.Addr, with TLS when a certificate is given.
func mllpListen(cfg *mllpConfig) (net.Listener, string, error) {
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return nil, "", errors.New("--mllp-tls-cert and --mllp-tls-key go together")
	}
	if cfg.TLSCert == "" {
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, "", fmt.Errorf("--mllp-addr %s: %w", cfg.Addr, err)
		}
		return ln, "mllp", nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, "", fmt.Errorf("--mllp-tls-cert/--mllp-tls-key: %w", err)
	}
	ln, err := tls.Listen("tcp", cfg.Addr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return nil, "", fmt.Errorf("--mllp-addr %s: %w", cfg.Addr, err)
	}
	return ln, "mllps", nil
}
