// Package examples holds triad's notebook-style scripts, one folder each:
// `go run ./examples/NAME` runs one and writes its figures and a Markdown page of
// its outputs to examples/NAME/out (or -out DIR). `go test ./examples/...` runs
// every script in a short mode. Each script is also a Jupyter notebook for the
// GoNB kernel, notebooks/NAME.ipynb, made from its source by
// examples/internal/ipynb; examples/notebook is the page and display helper
// the scripts share.
package examples
