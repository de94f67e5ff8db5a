package oauth

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// originsFresh is how long the set of registered origins is trusted before
// it is read again (a new client's origin works within it on other
// servers; at once on the one that registered it).
const originsFresh = 30 * time.Second

// originCache is the union of the registered clients' origins.
type originCache struct {
	clients *Registry

	mu     sync.Mutex
	set    map[string]bool
	loaded time.Time
}

// allowed reports whether origin belongs to an enabled client.
func (c *originCache) allowed(ctx context.Context, origin string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set == nil || now.Sub(c.loaded) >= originsFresh || !c.set[origin] && now.Sub(c.loaded) >= time.Second {
		clients, err := c.clients.List(ctx)
		if err != nil {
			return false
		}
		set := map[string]bool{}
		for _, cl := range clients {
			if cl.Disabled {
				continue
			}
			for _, o := range cl.Origins {
				set[o] = true
			}
		}
		c.set, c.loaded = set, now
	}
	return c.set[origin]
}

// corsPolicy is what a preflight from a registered origin is told, and
// the response headers the browser lets the app read.
type corsPolicy struct{ methods, headers, expose string }

var (
	// oauthCORS covers the token, introspection and revocation endpoints
	// and the discovery documents.
	oauthCORS = corsPolicy{methods: "GET, POST", headers: "Authorization, Content-Type"}
	// fhirCORS covers the FHIR RESTful API (https://hl7.org/fhir/R4/http.html):
	// its methods, the headers of conditional, versioned and preferring
	// requests, and the response headers an app reads after a write or a
	// refusal.
	fhirCORS = corsPolicy{methods: "GET, POST, PUT, PATCH, DELETE",
		headers: "Authorization, Content-Type, If-Match, If-None-Match, If-None-Exist, If-Modified-Since, Prefer",
		expose:  "Location, Content-Location, ETag, Last-Modified, WWW-Authenticate, X-Request-Id"}
)

// cors lets browser apps of registered origins call the endpoint h.
func (s *Server) cors(h http.Handler) http.Handler { return s.withCORS(h, oauthCORS, true) }

// CORS lets browser apps of registered origins (Client.Origins) call the
// FHIR API h, as the authorization server's own endpoints do: a preflight
// (OPTIONS with Access-Control-Request-Method) is answered here, before h
// would ask it for a token; other requests go to h with the CORS headers
// added for a registered origin.
func (s *Server) CORS(h http.Handler) http.Handler { return s.withCORS(h, fhirCORS, false) }

// withCORS applies the Fetch standard's CORS protocol to h: a preflight
// from a registered origin gets 204 with the allowed methods and headers;
// one from any other origin gets 403 and no CORS headers, and so does its
// actual request's response (the request is still served: it may come from
// a non-browser client, and without the headers a browser hides the
// answer). Every OPTIONS request is a preflight when allOptions is set;
// otherwise only one with Access-Control-Request-Method is.
func (s *Server) withCORS(h http.Handler, p corsPolicy, allOptions bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		w.Header().Add("Vary", "Origin")
		ok := origin != "" && s.origins.allowed(r.Context(), origin, s.now())
		if r.Method == http.MethodOptions && (allOptions || r.Header.Get("Access-Control-Request-Method") != "") {
			if !ok {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Methods", p.methods)
			w.Header().Set("Access-Control-Allow-Headers", p.headers)
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if ok {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			if p.expose != "" {
				w.Header().Set("Access-Control-Expose-Headers", p.expose)
			}
		}
		h.ServeHTTP(w, r)
	})
}
