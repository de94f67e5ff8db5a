package rest

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ehealthplus/ehealth/internal/fhir"
	"github.com/ehealthplus/ehealth/internal/outcome"
)

// notFound answers any other path or method under /fhir: 405 where the
// path names a type or an instance but the method does not apply to it,
// 404 otherwise.
func (a *API) notFound(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/fhir"), "/"), "/")
	if len(segs) >= 1 && len(segs) <= 2 && fhir.IsResourceType(segs[0]) {
		a.writeError(w, r, outcome.New(outcome.NotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path))
		return
	}
	a.writeError(w, r, outcome.New(outcome.NotFound, "%s %s is not a FHIR interaction this server knows", r.Method, r.URL.Path))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
