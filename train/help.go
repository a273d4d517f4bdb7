package train

import (
	"flag"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// PrintFlags writes the flags of fs to w, one a line, as `--name type` and the
// usage text with the default where it is not the zero value:
//
//	--lr float          RMSProp learning rate (default 0.002)
//	--tie               tie the output head to the embedding
//
// The usage text is printed as written (no back-quoted word becomes the type).
func PrintFlags(w io.Writer, fs *flag.FlagSet) {
	type row struct{ head, usage string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		head := "--" + f.Name
		if t := flagType(f.Value); t != "" {
			head += " " + t
		}
		usage := f.Usage
		if def := f.DefValue; def != "" && def != "0" && def != "false" && def != "[]" {
			if flagType(f.Value) == "string" {
				def = strconv.Quote(def)
			}
			usage += fmt.Sprintf(" (default %s)", def)
		}
		rows = append(rows, row{head, usage})
		width = max(width, len(head))
	})
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r.head, r.usage)
	}
}

// flagType names the type of a flag's value: "" for a boolean (it takes none).
func flagType(v flag.Value) string {
	if b, ok := v.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return ""
	}
	if f, ok := v.(*fieldFlag); ok {
		return kindName(f.v.Kind())
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return kindName(t.Kind())
}

func kindName(k reflect.Kind) string {
	switch {
	case k == reflect.String:
		return "string"
	case k >= reflect.Int && k <= reflect.Uint64:
		return "int"
	case k == reflect.Float32 || k == reflect.Float64:
		return "float"
	}
	return strings.ToLower(k.String())
}
