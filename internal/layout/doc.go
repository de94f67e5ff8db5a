// Package layout holds no code: its test enforces the dependency rules of
// docs/ARCHITECTURE.md, so a package that reaches the wrong way fails CI.
package layout
