package citizen

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/web"
)

// MaxUpload is the largest file the personal folder takes.
const MaxUpload = 4 << 20

// folderTypes are the types of file the folder takes, by sniffed type.
var folderTypes = map[string]bool{"application/pdf": true, "image/png": true, "image/jpeg": true, "application/fhir+json": true}

var resourceID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// folder lists the documents the citizen keeps (citizen-provided
// DocumentReferences).
func folder(c *web.Ctx) error {
	b, err := search(c, "DocumentReference", url.Values{"_tag": {web.OriginSystem + "|" + web.OriginCitizen}, "_count": {"50"}, "_sort": {"-date"}})
	if err != nil {
		return err
	}
	return c.Render("folder", map[string]any{"Docs": b.Matches, "MaxMB": MaxUpload >> 20})
}

// sniff decides a file's type from its bytes, never from its name or the
// browser's word: PDF, PNG, JPEG, or FHIR JSON (a JSON object with a
// resourceType).
func sniff(body []byte) string {
	t := http.DetectContentType(body)
	switch {
	case t == "application/pdf", t == "image/png", t == "image/jpeg":
		return t
	case strings.HasPrefix(t, "text/plain"):
		var r struct {
			ResourceType string `json:"resourceType"`
		}
		if json.Unmarshal(bytes.TrimSpace(body), &r) == nil && r.ResourceType != "" {
			return "application/fhir+json"
		}
	}
	return t
}

// upload stores a file as a Binary in the citizen's record (its
// securityContext the Patient) and a DocumentReference tagged
// citizen-provided that describes it.
func upload(c *web.Ctx) error {
	f, hdr, err := c.R.FormFile("file")
	if err != nil {
		return outcome.At(outcome.Invalid, "file", "citizen: choose a file")
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, MaxUpload+1))
	if err != nil {
		return err
	}
	if len(body) > MaxUpload {
		return outcome.At(outcome.TooLarge, "file", "citizen: the file is larger than %d MB", MaxUpload>>20)
	}
	typ := sniff(body)
	if !folderTypes[typ] {
		return outcome.At(outcome.UnsupportedMedia, "file", "citizen: a %s file is not taken: PDF, PNG, JPEG or FHIR JSON", typ)
	}
	title := c.Form("title")
	if title == "" {
		title = strings.TrimSpace(hdr.Filename)
	}
	if len(title) > 200 {
		title = title[:200]
	}
	ctx := c.R.Context()
	subject := map[string]any{"reference": "Patient/" + patient(c)}
	tag := []any{map[string]any{"system": web.OriginSystem, "code": web.OriginCitizen, "display": "Citizen-provided"}}
	bin, err := c.FHIR.Create(ctx, web.Resource{"resourceType": "Binary", "contentType": typ, "securityContext": subject,
		"meta": map[string]any{"tag": tag}, "data": base64.StdEncoding.EncodeToString(body)})
	if err != nil {
		return err
	}
	doc := web.Resource{"resourceType": "DocumentReference", "status": "current", "meta": map[string]any{"tag": tag},
		"type":        map[string]any{"text": "Citizen-provided document"},
		"subject":     subject,
		"date":        time.Now().UTC().Format(time.RFC3339),
		"author":      []any{map[string]any{"reference": c.Session.FHIRUser}},
		"description": title,
		"content": []any{map[string]any{"attachment": map[string]any{"contentType": typ, "url": "Binary/" + web.Str(bin, "id"),
			"title": title, "size": len(body), "creation": time.Now().UTC().Format(time.RFC3339)}}}}
	if _, err := c.FHIR.Create(ctx, doc); err != nil {
		return err
	}
	c.Flash("ok", "folder.saved")
	return c.Redirect("folder")
}

// download sends a folder document's file as an attachment (never shown
// inline: what a citizen uploads is not this site's content).
func download(c *web.Ctx) error {
	id := c.R.PathValue("id")
	if !resourceID.MatchString(id) {
		return outcome.New(outcome.NotFound, "citizen: no document %q", id)
	}
	ctx := c.R.Context()
	doc, err := c.FHIR.Read(ctx, "DocumentReference", id)
	if err != nil {
		return err
	}
	bid, ok := strings.CutPrefix(web.Str(doc, "content", 0, "attachment", "url"), "Binary/")
	if !ok || !resourceID.MatchString(bid) || !web.CitizenProvided(doc) {
		return outcome.New(outcome.NotFound, "citizen: document %s has no file in the folder", id)
	}
	bin, err := c.FHIR.Read(ctx, "Binary", bid)
	if err != nil {
		return err
	}
	body, err := base64.StdEncoding.DecodeString(web.Str(bin, "data"))
	if err != nil {
		return fmt.Errorf("citizen: Binary/%s: %w", bid, err)
	}
	typ := web.Str(bin, "contentType")
	if !folderTypes[typ] {
		typ = "application/octet-stream"
	}
	h := c.W.Header()
	h.Set("Content-Type", typ)
	h.Set("Content-Disposition", `attachment; filename="document-`+id+extension(typ)+`"`)
	h.Set("Content-Length", fmt.Sprint(len(body)))
	c.W.Write(body)
	return nil
}

func extension(typ string) string {
	switch typ {
	case "application/pdf":
		return ".pdf"
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "application/fhir+json":
		return ".json"
	}
	return ""
}
