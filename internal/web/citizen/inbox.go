package citizen

import (
	"net/url"

	"github.com/ehealthplus/ehealth/internal/web"
)

// notice is one message of the inbox.
type notice struct {
	Sent, Text, Status string
}

// inbox lists the notices sent to the citizen (Communications), newest
// first, in the page's language.
func inbox(c *web.Ctx) error {
	b, err := search(c, "Communication", url.Values{"_sort": {"-sent"}, "_count": {"50"}})
	if err != nil {
		return err
	}
	var list []notice
	for _, r := range b.Matches {
		n := notice{Sent: web.Str(r, "sent"), Status: web.Str(r, "status")}
		for _, p := range web.List(r, "payload") {
			lang := web.Str(p, "extension", 0, "valueCode")
			if l, ok := web.ParseLang(lang); n.Text == "" || ok && l == c.Lang {
				n.Text = web.Str(p, "contentString")
			}
		}
		list = append(list, n)
	}
	return c.Render("inbox", map[string]any{"Notices": list})
}
