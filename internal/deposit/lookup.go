package deposit

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
	"github.com/ehealthplus/ehealth/internal/resource"
	"github.com/ehealthplus/ehealth/internal/store"
)

// keysPerSearch is how many source identifiers one search looks up (an
// OR of token values): a 300-entry deposit reads its records in a few
// queries, not one per entry.
const keysPerSearch = 100

// lookup finds the records the entries change: those the provider
// deposited before with the same source identifiers (by type, a search
// per keysPerSearch of them), and those named by id. Only the provider's
// own records are ever found (lookupCaller).
func (d *deposit) lookup(ctx context.Context) error {
	byType := map[string][]*item{}
	for _, it := range d.items {
		if it.err != nil || (it.role != roleRecord && it.role != rolePatient) {
			continue
		}
		if it.id != "" {
			if err := d.readByID(ctx, it); err != nil {
				return err
			}
			continue
		}
		if it.key.ok() {
			byType[it.typ] = append(byType[it.typ], it)
		}
	}
	for typ, items := range byType {
		for start := 0; start < len(items); start += keysPerSearch {
			if err := d.lookupKeys(ctx, typ, items[start:min(start+keysPerSearch, len(items))]); err != nil {
				return err
			}
		}
	}
	for _, it := range d.items {
		if it.err == nil && it.ifMatch > 0 && (it.existing == nil || it.existing.VersionID != it.ifMatch) {
			it.refuse(outcome.At(outcome.PreconditionFailed, it.path()+".request.ifMatch", "the record is not at version %d", it.ifMatch))
		}
	}
	return nil
}

// readByID reads the record a PUT or DELETE entry names by id.
func (d *deposit) readByID(ctx context.Context, it *item) error {
	v, err := d.s.svc.Read(ctx, lookupCaller(d.org), it.typ, it.id)
	switch {
	case outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone):
		it.refuse(outcome.At(outcome.NotFound, it.path()+".request.url", "%s/%s is not known among this provider's records: a provider changes only what it deposited", it.typ, it.id))
		return nil
	case err != nil:
		return err
	}
	return d.found(it, v)
}

// found records v as the version entry it changes.
func (d *deposit) found(it *item, v store.Version) error {
	if v.Writer != d.org {
		it.refuse(outcome.At(outcome.Forbidden, it.path()+".request.url", "%s/%s was written by another provider: a provider changes only what it deposited", v.Type, v.ID))
		return nil
	}
	body, err := fhir.Parse(v.Body)
	if err != nil {
		return outcome.Wrap(outcome.Internal, "deposit: decode "+v.Type+"/"+v.ID, err)
	}
	it.id = v.ID
	it.existing, it.cur = &v, body
	return nil
}

// lookupKeys searches the provider's records of typ carrying the
// entries' source identifiers.
func (d *deposit) lookupKeys(ctx context.Context, typ string, items []*item) error {
	want := make(map[sourceKey][]*item, len(items))
	tokens := make([]string, 0, len(items))
	for _, it := range items {
		if _, ok := want[it.key]; !ok {
			tokens = append(tokens, it.key.token())
		}
		want[it.key] = append(want[it.key], it)
	}
	q := url.Values{"identifier": {strings.Join(tokens, ",")}, "_count": {strconv.Itoa(2 * len(tokens))}, "_total": {"none"}}
	matched := map[sourceKey]store.Version{}
	cursor := ""
	for {
		res, err := d.s.svc.Search(ctx, lookupCaller(d.org), typ, q, searchOptions(cursor))
		if err != nil {
			return err
		}
		for _, v := range res.Matches {
			body, err := fhir.Parse(v.Body)
			if err != nil {
				return outcome.Wrap(outcome.Internal, "deposit: decode "+v.Type+"/"+v.ID, err)
			}
			for _, key := range identifiers(body) {
				its, ok := want[key]
				if !ok {
					continue
				}
				if prev, dup := matched[key]; dup && prev.ID != v.ID {
					for _, it := range its {
						it.refuse(outcome.At(outcome.PreconditionFailed, it.path()+".resource.identifier",
							"the source identifier %s|%s is on more than one of the provider's records (%s/%s and %s/%s)", key.system, key.value, typ, prev.ID, typ, v.ID))
					}
					continue
				}
				matched[key] = v
			}
		}
		if res.Next == "" {
			break
		}
		cursor = res.Next
	}
	for key, v := range matched {
		for _, it := range want[key] {
			if it.err != nil {
				continue
			}
			if err := d.found(it, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// identifiers are res's identifiers as keys.
func identifiers(res map[string]any) []sourceKey {
	list, _ := res["identifier"].([]any)
	out := make([]sourceKey, 0, len(list))
	for _, x := range list {
		id, _ := x.(map[string]any)
		sys, _ := id["system"].(string)
		val, _ := id["value"].(string)
		out = append(out, sourceKey{sys, val})
	}
	return out
}

// searchOptions are the options of the deposit's lookups.
func searchOptions(cursor string) resource.SearchOptions {
	return resource.SearchOptions{Strict: true, Cursor: cursor}
}

// binaries gives every Binary entry its DocumentReference (the entry whose
// content.attachment.url names the Binary's fullUrl) and, when that
// DocumentReference was deposited before, the Binary it named then, which
// the entry replaces.
func (d *deposit) binaries(ctx context.Context) error {
	for _, it := range d.items {
		if it.role != roleBinary || it.err != nil {
			continue
		}
		if sc, _ := it.res["securityContext"].(map[string]any); sc["reference"] == nil {
			it.refuse(outcome.At(outcome.Unprocessable, it.path()+".resource.securityContext",
				"a deposited Binary names its securityContext (the DocumentReference or the Patient), whose record it belongs to"))
			continue
		}
		doc, k := d.documentOf(it)
		if doc == nil {
			it.refuse(outcome.At(outcome.Unprocessable, it.path(),
				"a Binary is deposited with the DocumentReference whose content.attachment.url names the Binary entry's fullUrl"))
			continue
		}
		if doc.cur == nil {
			continue
		}
		typ, id := attachmentTarget(doc.cur, k)
		if typ != "Binary" {
			continue
		}
		v, err := d.s.svc.Read(ctx, lookupCaller(d.org), "Binary", id)
		if outcome.Is(err, outcome.NotFound) || outcome.Is(err, outcome.Gone) {
			continue
		}
		if err != nil {
			return err
		}
		if err := d.found(it, v); err != nil {
			return err
		}
	}
	return nil
}

// documentOf is the DocumentReference entry whose content[k] names the
// Binary entry it.
func (d *deposit) documentOf(it *item) (*item, int) {
	if it.fullURL == "" {
		return nil, 0
	}
	for _, doc := range d.items {
		if doc.typ != "DocumentReference" || doc.res == nil {
			continue
		}
		content, _ := doc.res["content"].([]any)
		for k, c := range content {
			att, _ := c.(map[string]any)["attachment"].(map[string]any)
			if u, _ := att["url"].(string); u == it.fullURL {
				return doc, k
			}
		}
	}
	return nil, 0
}

// attachmentTarget is the resource a stored DocumentReference's
// content[k].attachment.url names ("Binary/ID", or an absolute URL ending
// so).
func attachmentTarget(doc map[string]any, k int) (typ, id string) {
	content, _ := doc["content"].([]any)
	if k >= len(content) {
		return "", ""
	}
	att, _ := content[k].(map[string]any)["attachment"].(map[string]any)
	u, _ := att["url"].(string)
	if i := strings.Index(u, "/_history/"); i >= 0 {
		u = u[:i]
	}
	parts := strings.Split(u, "/")
	if len(parts) < 2 {
		return "", ""
	}
	return parts[len(parts)-2], parts[len(parts)-1]
}
