package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"

	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/auth/login"
	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/web"
	"github.com/ehealthplus/ehealth/internal/web/console"
)

// mountConsole adds the operator console to site: operators sign in with
// their accounts (ehealth admin operator), the console mints their
// operator tokens with tokens and does the registry's, the client
// registry's and the journal's work with the platform's services.
func mountConsole(site *web.Site, p *platform.Platform, tokens *token.Service, authz *oauth.Server, auditor *audit.Auditor, cfg stackConfig, log *slog.Logger) error {
	var pub ed25519.PublicKey
	if cfg.AuditKey != "" {
		key, err := audit.LoadPrivateKey(cfg.AuditKey)
		if err != nil {
			return fmt.Errorf("--audit-key: %w", err)
		}
		pub = key.Public().(ed25519.PublicKey)
	}
	return console.Mount(context.Background(), site, console.Config{Operators: login.NewOperators(p.Store, cfg.Login.Password),
		Keys: p.Store, Tokens: tokens, Clients: authz.Clients(), Registry: p.Registry, Audit: auditor, Journal: p.Store, Key: pub,
		IPRate: cfg.Login.IPRate, IPBurst: cfg.Login.IPBurst, Log: log})
}
