package resource

// rewriteURLs replaces, in res, every element named url whose value is
// exactly the fullUrl of an entry of the transaction (local) with that
// entry's Type/id: the R4 transaction rules replace matching links in
// elements of type uri and url too, not only in references
// (https://hl7.org/fhir/R4/http.html#trules). An IHE MHD deposit names its
// Binary in DocumentReference.content.attachment.url by the Binary
// entry's fullUrl. Values naming no entry are left as they are.
func rewriteURLs(node any, local map[string]string) {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if s, ok := v.(string); ok {
				if k == "url" {
					if t, ok := local[s]; ok {
						n[k] = t
					}
				}
				continue
			}
			rewriteURLs(v, local)
		}
	case []any:
		for _, v := range n {
			rewriteURLs(v, local)
		}
	}
}
