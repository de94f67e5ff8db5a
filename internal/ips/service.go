package ips

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
	"github.com/ehealthplus/ehealth/internal/terminology"
)

// Operation is the operation's name on Patient.
const Operation = "$summary"

// DefaultFonts are the TrueType fonts with Traditional Chinese glyphs
// looked for when Config.FontPath is empty, in order: Debian's
// fonts-droid-fallback (4 MB), fonts-arphic-bsmi00lp and fonts-cwtex-ming.
// (The PDF library reads TrueType outlines only: the .ttc collections
// of fonts-noto-cjk, fonts-wqy-* and fonts-arphic-uming do not load.)
var DefaultFonts = []string{
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/truetype/arphic-bsmi00lp/bsmi00lp.ttf",
	"/usr/share/fonts/truetype/cwtex/cwming.ttf",
}

// NoFont as Config.FontPath prints without a CJK font.
const NoFont = "none"

// Config configures the summaries.
type Config struct {
	// Name is the platform's name on the Device that authors every
	// summary; "eHealth+" when empty.
	Name string
	// Version is the software version on that Device ("" for none).
	Version string
	// FontPath is a TrueType font with Traditional Chinese glyphs for
	// the printable summary. Empty: the first of DefaultFonts present;
	// NoFont, or none present: a summary asked for in Chinese is printed
	// in English with a note saying why.
	FontPath string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Service builds International Patient Summaries
// (http://hl7.org/fhir/uv/ips/OperationDefinition/summary) from what the
// caller may read of a record, and offers Patient/$summary to the FHIR
// API as a rest.Operations provider (and rest.Negotiator: the answer
// follows Accept and Accept-Language, and its stored records are
// audited as served).
type Service struct {
	svc   *resource.Service
	terms *terminology.Service
	cfg   Config
	font  []byte // the CJK TrueType font; nil: none
}

// New returns the summaries over svc, wording codes with terms. A
// FontPath that cannot be read is an error; a missing default font is
// not.
func New(svc *resource.Service, terms *terminology.Service, cfg Config) (*Service, error) {
	if cfg.Name == "" {
		cfg.Name = "eHealth+"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{svc: svc, terms: terms, cfg: cfg}
	switch cfg.FontPath {
	case NoFont:
		return s, nil
	case "":
	default:
		font, err := os.ReadFile(cfg.FontPath)
		if err == nil {
			err = checkFont(font)
		}
		if err != nil {
			return nil, fmt.Errorf("ips: the summary font %s: %w", cfg.FontPath, err)
		}
		s.font = font
		return s, nil
	}
	for _, path := range DefaultFonts {
		font, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			err = checkFont(font)
		}
		if err != nil {
			return nil, fmt.Errorf("ips: the summary font %s: %w", path, err)
		}
		s.font = font
		break
	}
	return s, nil
}

// PrintsChinese reports whether the printable summary can be in
// Traditional Chinese (a CJK font was loaded).
func (s *Service) PrintsChinese() bool { return s.font != nil }

// Names lists $summary on Patient.
func (s *Service) Names(typ string) []string {
	if typ == "Patient" {
		return []string{Operation}
	}
	return nil
}

// exchangeKey keys the request's exchange in a context.
type exchangeKey struct{}

// exchange is one request's headers and base (Negotiate), and the
// versions its answer served (Run), read back by Served.
type exchange struct {
	header http.Header
	base   string
	served []store.Version
}

// Negotiate keeps the request's headers and base for Run.
func (s *Service) Negotiate(ctx context.Context, _, _ string, header http.Header, base string) context.Context {
	return context.WithValue(ctx, exchangeKey{}, &exchange{header: header, base: base})
}

// Served lists the stored versions the summary built in ctx holds.
func (s *Service) Served(ctx context.Context) []store.Version {
	if ex, ok := ctx.Value(exchangeKey{}).(*exchange); ok {
		return ex.served
	}
	return nil
}

// Run builds the summary of the instance Patient (GET or POST
// Patient/{id}/$summary) or of the patient an identifier names (POST
// Patient/$summary), as c may read it: the document Bundle, or a Binary
// holding the PDF.
func (s *Service) Run(ctx context.Context, c resource.Caller, typ, name string, instance map[string]any, query url.Values, body map[string]any) (map[string]any, error) {
	if typ != "Patient" || name != Operation {
		return nil, outcome.New(outcome.NotFound, "operation %q is not known on %s", name, typ)
	}
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	if ex == nil {
		ex = &exchange{}
	}
	req, err := ParseRequest(query, body, ex.header.Get("Accept"), ex.header.Get("Accept-Language"), instance != nil)
	if err != nil {
		return nil, err
	}
	id, _ := instance["id"].(string)
	if instance == nil {
		if id, err = s.patientByIdentifier(ctx, c, req.Identifier, ex.base); err != nil {
			return nil, err
		}
	}
	doc, err := s.Summary(ctx, c, id, req.Language, ex.base)
	if err != nil {
		return nil, err
	}
	ex.served = doc.Served
	if req.Format == PDF {
		data, err := s.PDF(doc)
		if err != nil {
			return nil, err
		}
		return map[string]any{"resourceType": "Binary", "contentType": "application/pdf", "data": base64.StdEncoding.EncodeToString(data)}, nil
	}
	return doc.Bundle, nil
}

// Summary builds patient id's summary in lang (English or
// TraditionalChinese) from what c may read, its stored entries' fullUrls
// under base (this server's FHIR base). The Patient c may not see is
// not found.
func (s *Service) Summary(ctx context.Context, c resource.Caller, id, lang, base string) (Document, error) {
	if base == "" {
		return Document{}, outcome.New(outcome.Internal, "ips: a summary needs the server's base URL for its fullUrls")
	}
	rec, err := s.gather(ctx, c, id, base)
	if err != nil {
		return Document{}, err
	}
	return s.build(rec, lang, base, s.cfg.Now().UTC().Truncate(time.Second))
}

// patientByIdentifier is the id of the one Patient c may see that
// carries identifier ("system|value"): a provider's record that defers to
// another (linked or merged) gives way to it.
func (s *Service) patientByIdentifier(ctx context.Context, c resource.Caller, identifier, base string) (string, error) {
	res, err := s.svc.Search(ctx, c, "Patient", url.Values{"identifier": {identifier}, "_count": {"10"}}, resource.SearchOptions{BaseURL: base, Strict: true})
	if err != nil {
		return "", err
	}
	var ids []string
	for _, v := range res.Matches {
		e, err := decoded(v)
		if err != nil {
			return "", err
		}
		if !defers(e.res) {
			ids = append(ids, v.ID)
		}
	}
	switch len(ids) {
	case 0:
		return "", outcome.At(outcome.NotFound, at("identifier"), "no patient you may see carries that identifier")
	case 1:
		return ids[0], nil
	}
	return "", outcome.At(outcome.Unprocessable, at("identifier"), "several patients carry that identifier; ask for Patient/{id}/$summary")
}

// defers reports whether a Patient defers to another record: linked to
// the master (refer) or merged into another (replaced-by).
func defers(p map[string]any) bool {
	links, _ := p["link"].([]any)
	for _, l := range links {
		m, _ := l.(map[string]any)
		if t := m["type"]; t == "refer" || t == "replaced-by" {
			return true
		}
	}
	return false
}
