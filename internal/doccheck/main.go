// Command doccheck lists the exported names of the module's non-test Go files
// that have no doc comment, and the packages without a package comment; it exits
// with status 1 if it finds any. `make lint` runs it.
//
//	go run ./internal/doccheck [dir]
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	root := "."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	problems, err := check(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "doccheck:", err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "doccheck: %d exported names or packages lack a doc comment\n", len(problems))
		os.Exit(1)
	}
}

// check parses every package under root and returns one line per missing comment.
func check(root string) ([]string, error) {
	var problems []string
	pkgDoc := map[string]bool{}
	pkgSeen := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "out" || name == "runs") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		pkgSeen[dir] = f.Name.Name
		if f.Doc != nil {
			pkgDoc[dir] = true
		}
		if f.Name.Name == "main" {
			return nil // a command's names are not an API
		}
		for _, decl := range f.Decls {
			problems = append(problems, undocumented(path, decl)...)
		}
		return nil
	})
	for dir := range pkgSeen {
		if !pkgDoc[dir] {
			problems = append(problems, fmt.Sprintf("%s: package %s has no package comment", dir, pkgSeen[dir]))
		}
	}
	sort.Strings(problems)
	return problems, err
}

func undocumented(path string, decl ast.Decl) []string {
	var out []string
	switch d := decl.(type) {
	case *ast.FuncDecl:
		if !d.Name.IsExported() || d.Doc != nil {
			return nil
		}
		if d.Recv != nil && !exportedReceiver(d.Recv) {
			return nil
		}
		out = append(out, fmt.Sprintf("%s: func %s has no doc comment", path, d.Name.Name))
	case *ast.GenDecl:
		if d.Tok == token.IMPORT {
			return nil
		}
		for _, spec := range d.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				if s.Name.IsExported() && d.Doc == nil && s.Doc == nil {
					out = append(out, fmt.Sprintf("%s: type %s has no doc comment", path, s.Name.Name))
				}
			case *ast.ValueSpec:
				for _, n := range s.Names {
					// a documented const/var block documents its members
					if n.IsExported() && d.Doc == nil && s.Doc == nil && s.Comment == nil {
						out = append(out, fmt.Sprintf("%s: %s %s has no doc comment", path, d.Tok, n.Name))
					}
				}
			}
		}
	}
	return out
}

// exportedReceiver reports whether a method's receiver type is exported.
func exportedReceiver(fl *ast.FieldList) bool {
	if len(fl.List) == 0 {
		return false
	}
	t := fl.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.IsExported()
		default:
			return false
		}
	}
}
