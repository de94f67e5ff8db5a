package webtest

import (
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
)

// The widths screenshots are taken at.
var (
	Phone   = Viewport{390, 844}
	Desktop = Viewport{1280, 800}
)

// Viewport is a window size in CSS pixels.
type Viewport struct{ Width, Height int64 }

// Screenshot writes the visible part of the page at viewport v to path as
// a PNG (the viewport is left as it was set).
func (b *Browser) Screenshot(path string, v Viewport) {
	b.t.Helper()
	b.Do(chromedp.EmulateViewport(v.Width, v.Height), chromedp.Sleep(100*time.Millisecond))
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
