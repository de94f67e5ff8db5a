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

// cors lets browser apps of registered origins call h (the Fetch
// standard's CORS protocol): a preflight from a registered origin gets 204
// with the allowed method and headers; one from any other origin gets 403
// and no CORS headers, and so does its actual request's response (the
// request is still served: it may come from a non-browser client, and
// without the headers a browser hides the answer).
func (s *Server) cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		w.Header().Add("Vary", "Origin")
		ok := origin != "" && s.origins.allowed(r.Context(), origin, s.now())
		if r.Method == http.MethodOptions {
			if !ok {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if ok {
			w.Header().Set("Access-Control-Allow-Origin", origin)
		}
		h.ServeHTTP(w, r)
	})
}
