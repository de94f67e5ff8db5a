package webtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// axe-core from npm at a pinned version, checked against the integrity
// npm publishes (`npm view axe-core@4.11.1 dist.integrity`).
const (
	AxeVersion   = "4.11.1"
	axeIntegrity = "sha512-BASOg+YwO2C+346x3LZOeoovTIoTrRqEsqMa6fmfAV0P+U9mFr9NsyOEpiYvFjbc64NMrSswhV50WdXzdb/Z5A=="
	axeFile      = "package/axe.min.js"
)

// Axe is the axe-core library, to run in pages.
type Axe struct{ source string }

// LoadAxe returns axe-core, packed with npm the first time and then read
// from the user cache directory; it skips the test where npm is absent.
func LoadAxe(ctx context.Context, t testing.TB) *Axe {
	t.Helper()
	js := NPMFile(ctx, t, NPMPackage{Name: "axe-core", Version: AxeVersion, Integrity: axeIntegrity}, axeFile)
	return &Axe{source: string(js)}
}

// NPMPackage is an npm package at a pinned version, with the integrity npm
// publishes for its tarball (`npm view NAME@VERSION dist.integrity`).
type NPMPackage struct{ Name, Version, Integrity string }

// NPMFile returns the file at name (e.g. "package/axe.min.js") in pkg's
// tarball: packed with `npm pack` (no scripts run) the first time, checked
// against the pinned integrity, kept in the user cache directory and read
// from there after. Nothing of it is committed. It skips the test where npm
// is absent.
func NPMFile(ctx context.Context, t testing.TB, pkg NPMPackage, name string) []byte {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skipf("no npm on PATH: this test takes %s from npm (apt-get install npm)", pkg.Name)
	}
	spec := pkg.Name + "@" + pkg.Version
	tarball := filepath.Join(t.TempDir(), pkg.Name+".tgz")
	if dir, err := os.UserCacheDir(); err == nil {
		tarball = filepath.Join(dir, "ehealth", "npm", pkg.Name+"-"+pkg.Version+".tgz")
	}
	body, err := os.ReadFile(tarball)
	if err != nil || checkIntegrity(pkg, body) != nil {
		if body, err = npmPack(ctx, npm, spec); err != nil {
			t.Fatal(err)
		}
		if err := checkIntegrity(pkg, body); err != nil {
			t.Fatal(err)
		}
		if err := writeCache(tarball, body); err != nil {
			t.Logf("%s not cached: %v", spec, err)
		}
	}
	f, err := fileInTarball(body, name)
	if err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	return f
}

// Run checks the page in b against WCAG 2.1 A and AA and returns the
// serious and critical violations, one line each with the elements.
func (a *Axe) Run(b *Browser) ([]string, error) {
	ctx := b.ctx
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](a.source+";true")); err != nil {
		return nil, fmt.Errorf("load axe-core: %w", err)
	}
	const run = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa']}, resultTypes: ['violations']})
		.then(r => JSON.stringify(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
			.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.html)}))))`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("run axe-core: %w", err)
	}
	var vs []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		return nil, err
	}
	var lines []string
	for _, v := range vs {
		lines = append(lines, fmt.Sprintf("  %s (%s): %s — %q", v.ID, v.Impact, v.Help, v.Nodes))
	}
	return lines, nil
}

// npmPack downloads a package's tarball with `npm pack` (no scripts run).
func npmPack(ctx context.Context, npm, spec string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "ehealth-npm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.CommandContext(ctx, npm, "pack", spec, "--ignore-scripts", "--silent", "--pack-destination", dir)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("npm pack %s: %w: %s", spec, err, out)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.tgz"))
	if err != nil || len(files) != 1 {
		return nil, fmt.Errorf("npm pack %s: want one tarball in %s, found %v", spec, dir, files)
	}
	return os.ReadFile(files[0])
}

// checkIntegrity compares a tarball with pkg's pinned integrity.
func checkIntegrity(pkg NPMPackage, body []byte) error {
	sum := sha512.Sum512(body)
	if got := "sha512-" + base64.StdEncoding.EncodeToString(sum[:]); got != pkg.Integrity {
		return fmt.Errorf("%s %s: tarball integrity %s, want %s", pkg.Name, pkg.Version, got, pkg.Integrity)
	}
	return nil
}

// writeCache stores body at path, whole or not at all.
func writeCache(path string, body []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".npm-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// fileInTarball returns the file at name in a gzipped tarball.
func fileInTarball(tgz []byte, name string) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("no %s in the tarball", name)
		}
		if err != nil {
			return nil, err
		}
		if h.Name == name {
			return io.ReadAll(tr)
		}
	}
}
