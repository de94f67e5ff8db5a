package login

import (
	"embed"
	"encoding/json"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed templates/login.js
var script []byte

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// text is one message in both languages of the platform.
type text struct{ En, Zh string }

// The messages people see. Failures of authentication are one message, so
// the answer does not tell which part was wrong or whether the account
// exists.
var (
	msgBadCredentials = text{"The details you entered are not right. Check them and try again.", "你輸入的資料不正確，請檢查後再試。"}
	msgBadCode        = text{"That code is not right, or it has expired. Try again or ask for a new code.", "驗證碼不正確或已過期，請再試或索取新的驗證碼。"}
	msgCodeSent       = text{"If the details match a registered person, we have sent a 6-digit code to their registered phone or email. It lasts 5 minutes.", "如資料與已登記人士相符，我們已把 6 位數字驗證碼發送到其登記的電話或電郵，有效時間為 5 分鐘。"}
	msgBadDocument    = text{"That identity document number is not valid. Check it and try again.", "身份證明文件號碼無效，請檢查後再試。"}
	msgBadNext        = text{"This sign-in link is not valid. Go back to the app and start again.", "此登入連結無效，請返回應用程式重新開始。"}
	msgCrossSite      = text{"This request did not come from the sign-in page. Reload the page and try again.", "此要求並非來自登入頁面，請重新載入頁面後再試。"}
	msgTooMany        = text{"Too many attempts. Wait a while and try again.", "嘗試次數過多，請稍候再試。"}
	msgInternal       = text{"Something went wrong on our side. Try again later.", "系統發生錯誤，請稍後再試。"}
	msgNoCodes        = text{"Sign-in with a code is not available at the moment.", "暫時未能以驗證碼登入。"}
	msgPasskeyFailed  = text{"The passkey could not be used. Try again, or sign in with a code.", "未能使用通行密鑰，請再試或以驗證碼登入。"}
	msgNotSignedIn    = text{"Sign in first.", "請先登入。"}
	msgNoRole         = text{"Your account has no active role at a healthcare provider. Ask your provider's user administrator.", "你的帳戶沒有有效的醫療機構職位，請聯絡所屬機構的用戶管理員。"}
	msgUpstreamFailed = text{"Signing in with the identity service did not work. Try again, or sign in another way.", "未能透過身份認證服務登入，請再試或以其他方式登入。"}
	msgNotLinked      = text{"Your digital identity is not yet linked to an eHealth+ record. Sign in once with a code to link it.", "你的數碼身份尚未連結至醫健通+紀錄，請先以驗證碼登入一次以作連結。"}
	msgUnknownPage    = text{"This page does not exist.", "此頁面不存在。"}
)

// page is what every template gets.
type page struct {
	Title text
	CSRF  string
	Next  string
	Error *text
	Info  *text
	Demo  bool
	Data  any
}

// render writes a page with status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if p.CSRF == "" {
		p.CSRF = csrfToken(w, r)
	}
	p.Demo = h.cfg.Demo
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; form-action 'self' https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, p); err != nil {
		h.cfg.Log.Error("login: render", "page", name, "err", err)
	}
}

// fail answers with a message: a page, or JSON for the passkey script.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, msg text) {
	if wantsJSON(r) {
		writeJSON(w, status, map[string]string{"error": msg.En, "error_zh": msg.Zh})
		return
	}
	h.render(w, r, status, "message.html", page{Title: text{"Sign-in problem", "登入問題"}, Error: &msg})
}

// tooMany answers 429 with Retry-After (whole seconds, at least one).
func (h *Handler) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	h.fail(w, r, http.StatusTooManyRequests, msgTooMany)
}

// internal logs err and answers 500 without details.
func (h *Handler) internal(w http.ResponseWriter, r *http.Request, what string, err error) {
	h.cfg.Log.Error("login: "+what, "path", r.URL.Path, "err", err)
	h.fail(w, r, http.StatusInternalServerError, msgInternal)
}

// wantsJSON reports whether the request is the passkey script's.
func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") ||
		strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// serveScript serves the passkey script (our own, embedded: no CDN).
func serveScript(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(script)
}
