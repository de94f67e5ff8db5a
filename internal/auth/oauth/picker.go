package oauth

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/ory/fosite"

	"github.com/ehealthplus/ehealth/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// nsPending holds authorize requests waiting for the person to choose a
// patient, keyed by the hash of the id in the picker form.
const nsPending = "oauth.pending"

// pendingTTL is how long the picker waits.
const pendingTTL = 10 * time.Minute

// cancelled is the "patient" the picker's Cancel button chooses.
const cancelled = "\x00cancel"

// pending is an authorize request paused at the picker.
type pending struct {
	Form   url.Values `json:"form"`
	SignIn string     `json:"signIn"` // the sign-in session it belongs to
}

// showPicker pauses the request and shows the person the patients they
// may act for. The form posts back to the authorize endpoint with the
// pending id, which is single-use and bound to the sign-in session; the
// session cookie is SameSite=Lax, so another site cannot post it.
func (s *Server) showPicker(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, signIn string, choices []PatientChoice) {
	body, err := json.Marshal(pending{Form: ar.GetRequestForm(), SignIn: signIn})
	if err != nil {
		s.writeAuthorizeError(w, r, ar, s.serverError(r, "picker", err))
		return
	}
	id, key, err := newSecret()
	if err == nil {
		err = s.keys.PutKey(r.Context(), store.Key{NS: nsPending, Key: key}, body, s.now().Add(pendingTTL))
	}
	if err != nil {
		s.writeAuthorizeError(w, r, ar, s.serverError(r, "picker", err))
		return
	}
	app := clientOf(ar).Name
	if app == "" {
		app = clientOf(ar).ID
	}
	var buf bytes.Buffer
	err = pages.ExecuteTemplate(&buf, "picker.html", map[string]any{
		"App": app, "Action": PathAuthorize, "Pending": id, "Choices": choices,
	})
	if err != nil {
		s.writeAuthorizeError(w, r, ar, s.serverError(r, "picker", err))
		return
	}
	pageHeaders(w)
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// resumePending turns the picker's answer back into the paused authorize
// request (a GET with the original parameters) and the chosen patient.
func (s *Server) resumePending(r *http.Request) (*http.Request, string, error) {
	ctx := r.Context()
	body, err := s.keys.TakeKey(ctx, nsPending, hashSecret(r.PostForm.Get("pending")))
	if err != nil {
		return nil, "", errors.New("This choice has expired or was already made. 此選擇已過期或已完成。")
	}
	var p pending
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, "", errors.New("This choice cannot be read. 無法讀取此選擇。")
	}
	if _, signIn, ok := s.sessions.Current(r); !ok || signIn != p.SignIn {
		return nil, "", errors.New("You are no longer signed in as the person who was choosing. 你已不再以作出選擇的身分登入。")
	}
	patient := r.PostForm.Get("patient")
	if r.PostForm.Has("cancel") {
		patient = cancelled
	}
	resumed := r.Clone(ctx)
	resumed.Method = http.MethodGet
	resumed.URL = &url.URL{Path: PathAuthorize, RawQuery: p.Form.Encode()}
	resumed.RequestURI = resumed.URL.RequestURI()
	resumed.Body, resumed.ContentLength = http.NoBody, 0
	resumed.Header.Del("Content-Type")
	resumed.Form, resumed.PostForm, resumed.MultipartForm = nil, nil, nil
	return resumed, patient, nil
}

// writeAuthorizePage shows a problem to the person (bilingual frame, the
// message as given) where there is no verified redirect URI to send it to.
func writeAuthorizePage(w http.ResponseWriter, status int, msg string) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "message.html", msg); err != nil {
		http.Error(w, msg, status)
		return
	}
	pageHeaders(w)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// pageHeaders are the headers of the server's own pages: no caching, no
// framing, no scripts. (No form-action: browsers apply it to the redirect
// that follows the picker's post, which goes to the app.)
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}
