package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/auth/login"
	"github.com/ehealthplus/ehealth/internal/auth/scope"
	"github.com/ehealthplus/ehealth/internal/auth/token"
	"github.com/ehealthplus/ehealth/internal/bulkload"
	"github.com/ehealthplus/ehealth/internal/demo"
	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/platform"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// demoMarker is the keyed-store entry saying which territory a database
// holds, so serve --demo loads it once.
var demoMarker = store.Key{NS: "demo", Key: "territory"}

// demoPassword is the demo doctors' password (printed with the logins).
const demoPassword = "demo-password-2026"

// demoTerritory is what the marker records.
type demoTerritory struct {
	Citizens int       `json:"citizens"`
	Seed     int64     `json:"seed"`
	Loaded   time.Time `json:"loaded"`
}

// loadDemo loads cfg's territory into p unless the database holds it
// already (the marker; a load interrupted before it was written is simply
// loaded again: every resource is written at its id, so nothing is
// duplicated). It reports whether it loaded and how many resources.
func loadDemo(ctx context.Context, p *platform.Platform, cfg demo.Config) (loaded bool, n int64, err error) {
	if b, err := p.Store.GetKey(ctx, demoMarker.NS, demoMarker.Key); err == nil {
		var t demoTerritory
		if json.Unmarshal(b, &t) == nil && t.Citizens == cfg.Citizens && t.Seed == cfg.Seed {
			return false, 0, nil
		}
		return false, 0, fmt.Errorf("this database holds another demo territory (%s); use a fresh database", b)
	} else if !outcome.Is(err, outcome.NotFound) {
		return false, 0, fmt.Errorf("demo: %w", err)
	}
	l := bulkload.New(p.Service, bulkload.Options{Chunk: 1000, Writer: "demo"})
	s := l.Stream(ctx, "demo territory")
	if err := demo.Generate(cfg, demoWriter{s}); err != nil {
		s.Close()
		return false, 0, fmt.Errorf("demo: %w", err)
	}
	sum, err := s.Close()
	if err != nil {
		return false, sum.Resources, fmt.Errorf("demo: %w", err)
	}
	if len(sum.Rejected) > 0 {
		r := sum.Rejected[0]
		return false, sum.Resources, fmt.Errorf("demo: %d resources refused, first %s: %s", len(sum.Rejected), r.Where, r.Reason)
	}
	b, _ := json.Marshal(demoTerritory{Citizens: cfg.Citizens, Seed: cfg.Seed, Loaded: time.Now().UTC()})
	if err := p.Store.PutKey(ctx, demoMarker, b, time.Time{}); err != nil {
		return false, sum.Resources, fmt.Errorf("demo: %w", err)
	}
	return true, sum.Resources, nil
}

// demoWriter hands the generator's resources to a load stream.
type demoWriter struct{ s *bulkload.Stream }

func (w demoWriter) Write(_ string, res map[string]any) error { return w.s.Write(res) }

// demoLogins sets up and prints the demo's ways in: the citizens sign in
// with their identity document and a one-time code shown at the demo
// outbox; the doctors with a username, the demo password and a TOTP secret
// enrolled now; the clinic's system and the operator with tokens issued
// now (24 hours).
func demoLogins(ctx context.Context, p *platform.Platform, tokens *token.Service, cfg demo.Config, site string, w io.Writer) error {
	cast, err := demo.CastOf(cfg)
	if err != nil {
		return err
	}
	platformCaller := resource.Caller{Writer: "demo"}
	read := func(typ, id string) (map[string]any, error) {
		v, err := p.Service.Read(ctx, platformCaller, typ, id)
		if err != nil {
			return nil, fmt.Errorf("demo: %s/%s: %w", typ, id, err)
		}
		return fhir.Parse(v.Body)
	}
	citizen := func(id string) (string, error) {
		pt, err := read("Patient", id)
		if err != nil {
			return "", err
		}
		ids, _ := pt["identifier"].([]any)
		for _, i := range ids {
			m, _ := i.(map[string]any)
			if v, ok := m["value"].(string); ok && strings.Contains(fmt.Sprint(m["system"]), "immd.gov.hk") {
				return fmt.Sprintf("%s (%s)", v, name(pt)), nil
			}
		}
		return "", fmt.Errorf("demo: Patient/%s has no identity document", id)
	}
	accounts := login.NewAccounts(p.Store, login.DefaultPasswordParams)
	doctor := func(user, roleID string) (string, error) {
		role, err := read("PractitionerRole", roleID)
		if err != nil {
			return "", err
		}
		practitioner, _ := role["practitioner"].(map[string]any)
		ref, _ := practitioner["reference"].(string)
		if err := accounts.SetPassword(ctx, user, ref, demoPassword); err != nil {
			return "", err
		}
		uri, err := accounts.EnrolTOTP(ctx, user, "eHealth+ demo")
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("username %s, password %s, TOTP %s", user, demoPassword, uri), nil
	}
	elder, err := citizen(cast.Citizen)
	if err != nil {
		return err
	}
	parent, err := citizen(cast.Parent)
	if err != nil {
		return err
	}
	private, err := doctor("dr.private", cast.PrivateDoctor)
	if err != nil {
		return err
	}
	public, err := doctor("dr.public", cast.PublicDoctor)
	if err != nil {
		return err
	}
	org := "Organization/" + cast.PrivateClinic
	system, _, err := tokens.Issue(ctx, token.Claims{Subject: org, ClientID: "demo-clinic-system", Org: org, Scope: scope.MustParse("system/*.cruds")}, token.MaxTTL)
	if err != nil {
		return err
	}
	operator, _, err := tokens.IssueOperator(ctx, token.Claims{Subject: "operator", ClientID: adminClientID, Scope: scope.MustParse("system/*.cruds"), Operator: true}, token.MaxTTL)
	if err != nil {
		return err
	}
	console, err := demoOperator(ctx, p)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, `
Demo logins (sign in at %[1]s/login; one-time codes appear at %[1]s/login/demo/outbox):
  citizen (65+)            identity document %[2]s
  parent acting for child  identity document %[3]s (child Patient/%[4]s)
  private-clinic doctor    %[5]s
  public-hospital doctor   %[6]s
  clinic system client     Authorization: Bearer %[7]s
  operator (console)       %[1]s/admin/login: %[9]s
  operator (API)           Authorization: Bearer %[8]s
`, site, elder, parent, cast.Child, private, public, system, operator, console)
	return nil
}

// demoOperator makes (once) the demo's operator account for the console
// and enrols a new TOTP secret.
func demoOperator(ctx context.Context, p *platform.Platform) (string, error) {
	ops := login.NewOperators(p.Store, login.DefaultPasswordParams)
	if err := ops.Add(ctx, "operator", "Demo operator", demoPassword); err != nil && !outcome.Is(err, outcome.Conflict) {
		return "", err
	}
	if err := ops.SetPassword(ctx, "operator", demoPassword); err != nil {
		return "", err
	}
	uri, err := ops.EnrolTOTP(ctx, "operator", "eHealth+ demo")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("username operator, password %s, TOTP %s", demoPassword, uri), nil
}

// name is a Patient's first English name, for the logins.
func name(pt map[string]any) string {
	names, _ := pt["name"].([]any)
	for _, n := range names {
		m, _ := n.(map[string]any)
		if t, ok := m["text"].(string); ok {
			return t
		}
		family, _ := m["family"].(string)
		given, _ := m["given"].([]any)
		if len(given) > 0 {
			return fmt.Sprintf("%v %s", given[0], family)
		}
		return family
	}
	return ""
}

// serveDemo loads the demo territory, printing the demo logins as soon as
// the people they name are in (the generator writes the providers first
// and the citizens in order, and the cast is drawn from the first
// citizens), then logs how long the whole load took. The server answers
// from its start; records still arriving appear as they commit.
func serveDemo(ctx context.Context, p *platform.Platform, tokens *token.Service, cfg demo.Config, site string, w io.Writer, log *slog.Logger) error {
	start := time.Now()
	fmt.Fprintf(w, "loading the demo territory (%d citizens)…\n", cfg.Citizens)
	type result struct {
		loaded bool
		n      int64
		err    error
	}
	done := make(chan result, 1)
	go func() {
		loaded, n, err := loadDemo(ctx, p, cfg)
		done <- result{loaded, n, err}
	}()
	printed := false
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case r := <-done:
			if r.err != nil {
				return r.err
			}
			if r.loaded {
				log.Info("demo territory loaded", "citizens", cfg.Citizens, "resources", r.n, "took", time.Since(start).Round(time.Millisecond).String())
				fmt.Fprintf(w, "demo territory loaded: %d resources in %s\n", r.n, time.Since(start).Round(time.Millisecond))
			} else {
				fmt.Fprintln(w, "the demo territory is loaded already")
			}
			if printed {
				return nil
			}
			return demoLogins(ctx, p, tokens, cfg, site, w)
		case <-tick.C:
			if printed {
				continue
			}
			switch err := demoLogins(ctx, p, tokens, cfg, site, w); {
			case err == nil:
				printed = true
				log.Info("demo logins ready", "after", time.Since(start).Round(time.Millisecond).String())
			case !outcome.Is(err, outcome.NotFound) && !outcome.Is(err, outcome.Gone):
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
