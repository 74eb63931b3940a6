//go:build !race

package cmd

// allocFactor: see race_test.go.
const allocFactor = 1
