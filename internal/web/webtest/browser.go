package webtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// MaxPageWeight is the most a page may transfer: HTML, CSS and JavaScript
// (images excluded), with an empty cache.
const MaxPageWeight = 100 << 10

// Chromium returns the Chromium to drive, skipping the test where none is
// installed (.ci/run installs Debian's chromium).
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium or chromium-browser on PATH: the browser tests need one (apt-get install chromium)")
	return ""
}

// Browser is one headless Chromium tab with its cache disabled, counting
// the bytes each page transfers.
type Browser struct {
	ctx context.Context
	t   testing.TB

	mu    sync.Mutex
	types map[network.RequestID]network.ResourceType
	bytes int64 // HTML+CSS+JS since the last Reset
}

// NewBrowser starts a headless Chromium for the test's lifetime (ctx must
// have no deadline shorter than the test's: the browser lives as long as
// it).
func NewBrowser(ctx context.Context, t testing.TB) *Browser {
	t.Helper()
	exe := Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "en-GB"), chromedp.WindowSize(1280, 800))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium's sandbox refuses to run as root
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	b := &Browser{ctx: bctx, t: t, types: map[network.RequestID]network.ResourceType{}}
	if err := chromedp.Listen(bctx, b.observe); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
		return err
	}))
	if err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	return b
}

// Context is the tab's chromedp context, for actions of one's own.
func (b *Browser) Context() context.Context { return b.ctx }

// observe counts the bytes of documents, styles and scripts.
func (b *Browser) observe(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventResponseReceived:
		b.types[e.RequestID] = e.Type
	case *network.EventLoadingFinished:
		switch b.types[e.RequestID] {
		case network.ResourceTypeDocument, network.ResourceTypeStylesheet, network.ResourceTypeScript,
			network.ResourceTypeXHR, network.ResourceTypeFetch:
			b.bytes += int64(e.EncodedDataLength)
		}
		delete(b.types, e.RequestID)
	}
}

// ResetWeight starts counting a new page's bytes.
func (b *Browser) ResetWeight() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bytes = 0
}

// Weight is the bytes of HTML, CSS and JavaScript transferred since
// ResetWeight.
func (b *Browser) Weight() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bytes
}

// Do runs actions in the tab, failing the test with where the browser is
// and what it shows.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v\n%s", err, b.Where())
	}
}

// Open navigates to url and waits for the page, after resetting the
// weight.
func (b *Browser) Open(url string) {
	b.t.Helper()
	b.ResetWeight()
	b.Do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
}

// Submit clicks a button or link (the first match of the CSS selector
// sel) and waits for the next page, counting its weight.
func (b *Browser) Submit(sel string) {
	b.t.Helper()
	b.Follow(chromedp.Click(chromedp.CSS(sel)))
}

// Follow runs an action that leads to another page (a click, a script)
// and waits until that page has loaded, counting its weight.
func (b *Browser) Follow(action chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.ResetWeight()
	b.Do(b.Eval("window.__webtestStale = true"), action, b.waitLoaded())
}

// waitLoaded waits until a document that is not the one marked stale has
// loaded.
func (b *Browser) waitLoaded() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			state, err := chromedp.Evaluate[string]("window.__webtestStale ? 'stale' : document.readyState")(ctx, t)
			if err == nil && state == "complete" {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// Eval is an action running a script in the page, its value ignored.
func (b *Browser) Eval(script string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](script+";null")(ctx, t)
		return err
	})
}

// Location is the tab's URL.
func (b *Browser) Location() string {
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	return loc
}

// Text is the page's visible text.
func (b *Browser) Text() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
	if err != nil {
		b.t.Fatalf("browser: page text: %v", err)
	}
	return s
}

// Where describes where the browser is, for a failure's message.
func (b *Browser) Where() string {
	text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
	return fmt.Sprintf("the browser is at %s, showing %.600q", b.Location(), text)
}

// Fill types value into the field sel (clearing it first).
func (b *Browser) Fill(sel, value string) {
	b.t.Helper()
	b.Do(chromedp.SetValue(chromedp.CSS(sel), value))
}

// Lang is the page's html lang attribute.
func (b *Browser) Lang() string {
	l, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string]("document.documentElement.lang"))
	return l
}

// CheckPage fails the test on any of the page's Problems and returns
// its weight.
func (b *Browser) CheckPage(axe *Axe, name string) int64 {
	b.t.Helper()
	for _, p := range b.Problems(axe) {
		b.t.Errorf("%s: %s", name, p)
	}
	return b.Weight()
}

// Problems applies the checks every page must pass: no missing
// translation, an html lang, the weight under MaxPageWeight and (when axe
// is not nil) no serious or critical accessibility violation.
func (b *Browser) Problems(axe *Axe) []string {
	var out []string
	if text := b.Text(); strings.Contains(text, "⟦") {
		i := strings.Index(text, "⟦")
		out = append(out, fmt.Sprintf("a message is missing from the catalogue: %.80q", text[i:]))
	}
	if b.Lang() == "" {
		out = append(out, "the page has no lang attribute")
	}
	if w := b.Weight(); w > MaxPageWeight {
		out = append(out, fmt.Sprintf("the page transferred %d bytes of HTML, CSS and JavaScript, over %d", w, MaxPageWeight))
	}
	if axe != nil {
		if v, err := axe.Run(b); err != nil {
			out = append(out, fmt.Sprintf("axe: %v", err))
		} else if len(v) > 0 {
			out = append(out, "accessibility violations:\n"+strings.Join(v, "\n"))
		}
	}
	return out
}

// Count is how many elements match a CSS selector.
func (b *Browser) Count(sel string) (int, error) {
	return chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
}
