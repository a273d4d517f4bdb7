// Package poison holds a switch for tests: with Scratch set, the arena fills
// every buffer it lends with NaN, so that a kernel which reads memory before
// writing it gives NaN in its tests instead of another buffer's stale values,
// which are usually finite and pass unnoticed.
package poison

import "sync/atomic"

// Scratch makes graph's arena fill what it lends with NaN while it is set
// (testenv.PoisonedMain sets it for a package's tests).
var Scratch atomic.Bool
