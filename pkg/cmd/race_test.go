//go:build race

package cmd

// allocFactor widens the hostile-file allocation bounds under the race
// detector, whose instrumentation doubles what a large read allocates
// (measured: 201 MiB for a 100 MB line, 101 MiB without it).
const allocFactor = 3
