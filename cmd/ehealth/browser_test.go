package main

import (
	"context"
	"os/exec"
	"testing"

	"github.com/ehealthplus/ehealth/internal/web/webtest"
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
	return webtest.NPMFile(ctx, t, webtest.NPMPackage{Name: "fhirclient", Version: fhirClientVersion, Integrity: fhirClientIntegrity}, fhirClientBrowserBuild)
}
