// Package webtest drives the web apps in a real browser for tests: a
// headless Debian Chromium through chromedp (tests skip where none is
// installed), the page weight each page costs, axe-core from npm (packed
// at a pinned version into the user cache directory, never committed)
// checking every page for serious and critical accessibility violations,
// the missing-translation mark, and screenshots at phone and desktop
// widths.
package webtest
