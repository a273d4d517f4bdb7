// Package report writes what a run shows a reader beside its metrics: attention
// heat maps as HTML pages and as PNG images, pages of sample outputs, tables. It depends on nothing
// model-specific, so any experiment can use it.
package report
