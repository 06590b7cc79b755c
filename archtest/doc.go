// Package archtest holds the test that checks the import rules stated in
// docs/ARCHITECTURE.md against the module's packages. It has no code of
// its own.
package archtest
