// Command ipynb makes the Jupyter notebooks of notebooks/ from the example
// scripts of examples/, so that a subject has one source: examples/NAME/main.go
// becomes notebooks/NAME.ipynb, a notebook for the GoNB kernel.
//
//	go run ./examples/internal/ipynb        # rewrite notebooks/*.ipynb
//	go run ./examples/internal/ipynb -check # fail when one differs
//
// The notebook of a script is, in order: a Markdown cell with the script's
// package comment; a set-up cell (the notebook's go.mod replaces
// github.com/triadml/triad by the checkout the notebook is in); the script's
// declarations, one code cell per part, the first also showing the script's
// prose and figures through GoNB's display functions (GoNB builds and runs
// every code cell, so parts are few); and a last cell, the
// body of the script's main function under GoNB's %% (run as main). A line
// comment group whose lines start with //notebook:md, between two top-level
// declarations, ends a part and becomes a Markdown cell of the rest of its
// lines.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/doc/comment"
	"go/parser"
	"go/token"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pkg/errors"
)

// mdDirective marks a comment line that becomes a Markdown cell.
const mdDirective = "//notebook:md"

// gonbVersion is the GoNB release the notebooks' go.mod asks for, the one
// notebooks/tools pins.
const gonbVersion = "v0.11.1"

func main() {
	check := flag.Bool("check", false, "report the notebooks that differ from their scripts instead of writing them")
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	stale, err := syncAll(*root, !*check)
	if err != nil {
		log.Fatal(err)
	}
	if *check && len(stale) > 0 {
		log.Fatalf("notebooks differ from their scripts (run go run ./examples/internal/ipynb): %s", strings.Join(stale, ", "))
	}
}

// scripts returns the names of the example scripts under root: the folders
// examples/NN-*.
func scripts(root string) ([]string, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "examples", "[0-9][0-9]-*", "main.go"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range dirs {
		names = append(names, filepath.Base(filepath.Dir(d)))
	}
	sort.Strings(names)
	return names, nil
}

// syncAll makes the notebook of every script and returns the paths of those
// that differ from the files there; write replaces them.
func syncAll(root string, write bool) ([]string, error) {
	names, err := scripts(root)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.Errorf("no scripts under %s", filepath.Join(root, "examples"))
	}
	var stale []string
	for _, name := range names {
		src, err := os.ReadFile(filepath.Join(root, "examples", name, "main.go"))
		if err != nil {
			return nil, err
		}
		nb, err := Generate(name, src)
		if err != nil {
			return nil, errors.Wrap(err, name)
		}
		path := filepath.Join(root, "notebooks", name+".ipynb")
		old, err := os.ReadFile(path)
		if err == nil && bytes.Equal(old, nb) {
			continue
		}
		stale = append(stale, path)
		if write {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(path, nb, 0o644); err != nil {
				return nil, err
			}
		}
	}
	return stale, nil
}

// cell is one notebook cell, its fields in the order (sorted) that Jupyter
// writes them.
type cell struct {
	CellType       string            `json:"cell_type"`
	ExecutionCount json.RawMessage   `json:"execution_count,omitempty"` // null for a code cell
	ID             string            `json:"id"`
	Metadata       map[string]string `json:"metadata"`
	Outputs        *[]any            `json:"outputs,omitempty"`
	Source         []string          `json:"source"`
}

// notebookFile is an nbformat 4.5 notebook.
type notebookFile struct {
	Cells         []cell         `json:"cells"`
	Metadata      map[string]any `json:"metadata"`
	NBFormat      int            `json:"nbformat"`
	NBFormatMinor int            `json:"nbformat_minor"`
}

// lines splits s into nbformat's source lines, each but the last ending in a
// newline.
func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	parts := strings.SplitAfter(s, "\n")
	if len(parts) == 1 && parts[0] == "" {
		return []string{}
	}
	return parts
}

// setupModule is the cell that points the notebook's go.mod at the checkout
// (the folder above notebooks/) and at the GoNB release of the kernel.
var setupModule = `!*go mod edit -replace=github.com/triadml/triad=$(cd "$GONB_DIR/.." && pwd) -require=github.com/triadml/triad@v0.0.0-00010101000000-000000000000 -require=github.com/janpfeifer/gonb@` + gonbVersion

// setupImports and setupInit, around the script's first part in its cell,
// show the script's prose and figures in the notebook and run the script
// from the repository's root, as go run does.
const (
	setupImports = `import (
	"os"
	"path/filepath"

	"github.com/janpfeifer/gonb/gonbui"

	"github.com/triadml/triad/examples/notebook"
)`
	setupInit = `// init_notebook shows the script's prose and figures in the notebook, and
// runs the script from the repository's root (GoNB runs it in notebooks/).
func init_notebook() {
	notebook.Display = notebook.Frontend{Markdown: gonbui.DisplayMarkdown, PNG: gonbui.DisplayPNG}
	if dir := os.Getenv("GONB_DIR"); dir != "" {
		_ = os.Chdir(filepath.Dir(dir))
	}
}`
)

// Generate returns the notebook of the script named name whose source is src.
func Generate(name string, src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name+"/main.go", src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset }
	if f.Doc == nil {
		return nil, errors.New("the script has no package comment")
	}
	var cells []cell
	md := func(s string) {
		cells = append(cells, cell{CellType: "markdown", Metadata: map[string]string{}, Source: lines(s)})
	}
	code := func(s string) {
		s = strings.Trim(s, "\n")
		if strings.TrimSpace(s) == "" {
			return
		}
		cells = append(cells, cell{CellType: "code", ExecutionCount: json.RawMessage("null"), Metadata: map[string]string{}, Outputs: &[]any{}, Source: lines(s)})
	}

	var doc comment.Parser
	var pr comment.Printer
	intro := string(pr.Markdown(doc.Parse(f.Doc.Text())))
	md(fmt.Sprintf("# %s\n\n%s\nThis notebook is made from [examples/%[1]s/main.go](../examples/%[1]s/main.go) by `go run ./examples/internal/ipynb`: "+
		"edit the script, not the notebook. `go run ./examples/%[1]s` runs the same code as a program; `make notebooks` runs every notebook. "+
		"The first cell points the notebook's module at this checkout of triad (the folder above notebooks/); the second makes the script's prose and figures show here, then holds the script's declarations.", name, intro))
	code(setupModule)

	// The declarations after the package clause, cut at the Markdown
	// directives, and main's body last.
	var mainDecl *ast.FuncDecl
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" {
			mainDecl = fd
		}
	}
	if mainDecl == nil {
		return nil, errors.New("the script has no main function")
	}
	type cut struct {
		from, to int
		md       string // a Markdown cell; "" for none
	}
	var cuts []cut
	for _, cg := range f.Comments {
		if !strings.HasPrefix(cg.List[0].Text, mdDirective) {
			continue
		}
		var text []string
		for _, c := range cg.List {
			if !strings.HasPrefix(c.Text, mdDirective) {
				return nil, errors.Errorf("%s: a %s group has a line without it", fset.Position(c.Pos()), mdDirective)
			}
			text = append(text, strings.TrimPrefix(strings.TrimPrefix(c.Text, mdDirective), " "))
		}
		cuts = append(cuts, cut{off(cg.Pos()), off(cg.End()), strings.Join(text, "\n")})
	}
	mainFrom := off(mainDecl.Pos())
	if mainDecl.Doc != nil {
		mainFrom = off(mainDecl.Doc.Pos())
	}
	mainTo := off(mainDecl.End())
	for _, c := range cuts {
		if c.from < mainTo && c.to > mainFrom {
			return nil, errors.Errorf("a %s comment inside main", mdDirective)
		}
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].from < cuts[j].from })
	// part is the source from a to b less main, which its own cell runs.
	part := func(a, b int) string {
		if mainFrom >= a && mainTo <= b {
			return strings.TrimRight(string(src[a:mainFrom]), "\n") + "\n\n" + strings.TrimLeft(string(src[mainTo:b]), "\n")
		}
		return string(src[a:b])
	}
	// The display set-up shares the first part's cell: each code cell costs
	// GoNB a build.
	pos := off(f.Name.End())
	cuts = append(cuts, cut{from: len(src), to: len(src)})
	for i, c := range cuts {
		if i == 0 {
			code(setupImports + "\n\n" + strings.Trim(part(pos, c.from), "\n") + "\n\n" + setupInit)
		} else {
			code(part(pos, c.from))
		}
		if c.md != "" {
			md(c.md)
		}
		pos = c.to
	}

	body := string(src[off(mainDecl.Body.Lbrace)+1 : off(mainDecl.Body.Rbrace)])
	var mainLines []string
	for _, l := range strings.Split(strings.Trim(body, "\n"), "\n") {
		mainLines = append(mainLines, strings.TrimPrefix(l, "\t"))
	}
	md("Run the script: the last cell is its `main` function. Set the environment variable `TRIAD_NOTEBOOK_SHORT=1` (as `make notebooks` does) for a short run.")
	code("%%\n" + strings.Join(mainLines, "\n"))

	for i := range cells {
		cells[i].ID = fmt.Sprintf("%s-%02d", name[:min(2, len(name))], i)
	}
	nb := notebookFile{
		Cells: cells,
		Metadata: map[string]any{
			"kernelspec":    map[string]string{"display_name": "Go (gonb)", "language": "go", "name": "gonb"},
			"language_info": map[string]string{"name": "go"},
		},
		NBFormat: 4, NBFormatMinor: 5,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(nb); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
