package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The SMART client the browser test runs: fhirclient from npm at a pinned
// version, checked against the integrity npm publishes for it (`npm view
// fhirclient@2.6.3 dist.integrity`). Nothing of it is committed: the test
// packs it with npm and keeps the tarball in the user's cache directory.
const (
	fhirClientVersion   = "2.6.3"
	fhirClientIntegrity = "sha512-CirZixcwWelbkIXxpxlNQx5+ZdJirl6F1s4y4yvA1X7hHAkr9n99aVHaMi0wX+97nATjKQ65X6NB5as/wZoJzg=="
	// fhirClientBrowserBuild is the package's browser bundle (it defines
	// window.FHIR), inside the npm tarball.
	fhirClientBrowserBuild = "package/build/fhir-client.js"
)

// chromiumPath returns the Chromium to drive, skipping the test where none
// is installed (.ci/run installs Debian's chromium).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium or chromium-browser on PATH: the SMART browser test needs one (apt-get install chromium)")
	return ""
}

// fhirClientBundle returns the browser build of fhirclient, packed from
// npm the first time and then read from the cache. It skips the test where
// npm is not installed.
func fhirClientBundle(ctx context.Context, t *testing.T) []byte {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("no npm on PATH: the SMART browser test takes fhirclient from npm (apt-get install npm)")
	}
	tarball := filepath.Join(t.TempDir(), "fhirclient.tgz")
	if dir, err := os.UserCacheDir(); err == nil {
		tarball = filepath.Join(dir, "ehealth", "npm", "fhirclient-"+fhirClientVersion+".tgz")
	}
	body, err := os.ReadFile(tarball)
	if err != nil || checkIntegrity(body) != nil {
		if body, err = npmPack(ctx, npm, "fhirclient@"+fhirClientVersion); err != nil {
			t.Fatal(err)
		}
		if err := checkIntegrity(body); err != nil {
			t.Fatal(err)
		}
		if err := writeCache(tarball, body); err != nil {
			t.Logf("fhirclient not cached: %v", err)
		}
	}
	js, err := fileInTarball(body, fhirClientBrowserBuild)
	if err != nil {
		t.Fatalf("fhirclient %s: %v", fhirClientVersion, err)
	}
	return js
}

// npmPack downloads a package's tarball with `npm pack` (no scripts run)
// and returns it.
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

// checkIntegrity compares a tarball with the pinned npm integrity.
func checkIntegrity(body []byte) error {
	sum := sha512.Sum512(body)
	if got := "sha512-" + base64.StdEncoding.EncodeToString(sum[:]); got != fhirClientIntegrity {
		return fmt.Errorf("fhirclient %s: tarball integrity %s, want %s", fhirClientVersion, got, fhirClientIntegrity)
	}
	return nil
}

// writeCache stores body at path, whole or not at all.
func writeCache(path string, body []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fhirclient-*")
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
