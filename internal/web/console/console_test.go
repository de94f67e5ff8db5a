package console

import (
	"strings"
	"testing"

	accred "github.com/ehealthplus/ehealth/internal/accreditation"
	"github.com/ehealthplus/ehealth/internal/audit"
	"github.com/ehealthplus/ehealth/internal/audit/journal"
	"github.com/ehealthplus/ehealth/internal/auth/oauth"
	"github.com/ehealthplus/ehealth/internal/consent"
	"github.com/ehealthplus/ehealth/internal/notify"
	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/web"
)

// TestTranslated fails on a message missing in either language, on page
// text written in a template instead of the catalogue, and on a code the
// console shows (provider kinds, professions, roles, client kinds,
// journal problems, notice kinds) that has no words.
func TestTranslated(t *testing.T) {
	c := web.Catalogue{}
	if err := c.LoadCatalogue(files, "."); err != nil {
		t.Fatal(err)
	}
	if m := c.Missing(); len(m) > 0 {
		t.Errorf("messages missing in a language: %v", m)
	}
	words, err := web.LiteralText(files, "pages/*.html")
	if err != nil {
		t.Fatal(err)
	}
	if len(words) > 0 {
		t.Errorf("template text not through the catalogue:\n%s", strings.Join(words, "\n"))
	}
	var keys []string
	for k := range registry.ProviderKinds {
		keys = append(keys, "kind."+k)
	}
	for k := range registry.Professions {
		keys = append(keys, "profession."+k)
	}
	for k := range registry.ProfessionalRoles {
		keys = append(keys, "role."+k)
	}
	for _, k := range []oauth.Kind{oauth.Public, oauth.Confidential, oauth.System} {
		keys = append(keys, "clientkind."+string(k))
	}
	for _, k := range []audit.Kind{audit.Altered, audit.Removed, audit.Reordered, audit.Truncated, audit.Rewritten,
		audit.BadSignature, audit.CheckpointMissing, audit.CheckpointDiffers} {
		keys = append(keys, "problem."+string(k))
	}
	for _, k := range []string{notify.KindConsentGiven, notify.KindConsentRevoked, notify.KindFirstAccess, notify.KindEmergencyAccess,
		notify.KindRestrictedAccess, notify.KindOneTimeCode, notify.KindAccessReported} {
		keys = append(keys, "notice."+k)
	}
	for _, l := range []accred.Level{accred.None, accred.Bronze, accred.Silver, accred.Gold} {
		keys = append(keys, "level."+string(l))
	}
	for _, m := range []accred.Mark{accred.MarkLab, accred.MarkRadiology} {
		keys = append(keys, "mark."+string(m))
	}
	for _, s := range outboxStatuses {
		keys = append(keys, "status."+s)
	}
	for _, k := range keys {
		if _, ok := c[web.English][k]; !ok {
			t.Errorf("no words for %s", k)
		}
	}
}

// TestCodes keeps the console's copies of other packages' codes (it reads
// them from FHIR answers) equal to their sources.
func TestCodes(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{taskCodeSystem, consent.TaskCodeSystem},
		{taskCodeSystem, journal.TaskCodeSystem},
		{emergencyReview, consent.TaskEmergencyReview},
		{accessReport, journal.TaskAccessReport},
		{noticeKindSystem, notify.KindSystem},
		{levelExtension, accred.LevelExtension},
		{typesExtension, accred.TypesExtension},
		{markExtension, accred.MarkExtension},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}

func TestSafeReturn(t *testing.T) {
	for in, want := range map[string]string{
		"/admin/emergency":             "/admin/emergency",
		"/admin/outbox?status=stopped": "/admin/outbox?status=stopped",
		"":                             "/admin/",
		"/app/":                        "/admin/",
		"//evil.example/admin/":        "/admin/",
		"https://evil.example/":        "/admin/",
		"/admin/login?return=/x":       "/admin/",
		"/administrator":               "/admin/",
		"/admin/\r\nSet-Cookie: x":     "/admin/",
	} {
		if got := safeReturn(in); got != want {
			t.Errorf("safeReturn(%q) = %q, want %q", in, got, want)
		}
	}
}
