package train

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// BindFlags registers one flag per exported field of the struct cfg points to,
// named by the field's json tag with underscores as dashes ("max_steps" becomes
// --max-steps) and described by its help tag, with the field's current value as
// default. Embedded structs are flattened; other nested structs are bound with
// their name as a dotted prefix. Supported kinds: string, bool, int*, uint*,
// float*. It also registers --config FILE, which ParseConfig reads.
func BindFlags(fs *flag.FlagSet, cfg any) {
	fs.String("config", "", "JSON file of hyperparameters; flags given on the command line override it")
	bindStruct(fs, reflect.ValueOf(cfg).Elem(), "")
}

func bindStruct(fs *flag.FlagSet, v reflect.Value, prefix string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fv := v.Field(i)
		if f.Anonymous && fv.Kind() == reflect.Struct {
			bindStruct(fs, fv, prefix)
			continue
		}
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		name = prefix + strings.ReplaceAll(name, "_", "-")
		if fv.Kind() == reflect.Struct {
			bindStruct(fs, fv, name+".")
			continue
		}
		fs.Var(&fieldFlag{v: fv}, name, f.Tag.Get("help"))
	}
}

type fieldFlag struct{ v reflect.Value }

func (f *fieldFlag) String() string {
	if !f.v.IsValid() {
		return ""
	}
	return fmt.Sprint(f.v.Interface())
}

func (f *fieldFlag) IsBoolFlag() bool { return f.v.IsValid() && f.v.Kind() == reflect.Bool }

func (f *fieldFlag) Set(s string) error {
	switch f.v.Kind() {
	case reflect.String:
		f.v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errors.Errorf("%q is not a boolean", s)
		}
		f.v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return errors.Errorf("%q is not an integer", s)
		}
		f.v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return errors.Errorf("%q is not a non-negative integer", s)
		}
		f.v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return errors.Errorf("%q is not a number", s)
		}
		f.v.SetFloat(x)
	default:
		return errors.Errorf("unsupported flag kind %v", f.v.Kind())
	}
	return nil
}

// ParseConfig fills cfg (a pointer to a struct bound with BindFlags to fs) from
// args: first the JSON file named by --config, if any, then the flags given on the
// command line, which override it. Unknown JSON fields are an error; the keys
// "env" (a run's environment), "resume" and "overwrite" are skipped.
func ParseConfig(fs *flag.FlagSet, cfg any, args []string) error {
	configPath := ""
	for i, a := range args {
		switch {
		case a == "--config" || a == "-config":
			if i+1 < len(args) {
				configPath = args[i+1]
			}
		case strings.HasPrefix(a, "--config="):
			configPath = strings.TrimPrefix(a, "--config=")
		case strings.HasPrefix(a, "-config="):
			configPath = strings.TrimPrefix(a, "-config=")
		}
	}
	if configPath != "" {
		raw, err := os.ReadFile(configPath)
		if err != nil {
			return errors.Wrap(err, "config")
		}
		// a run's config.json also records its environment under "env": not a setting
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			return errors.Wrapf(err, "config %s", configPath)
		}
		delete(fields, "env")
		// where a run writes or reads is never a config file's to say: a run's
		// config.json records the resumed directory, and --overwrite is a flag's
		delete(fields, "resume")
		delete(fields, "overwrite")
		// keys a setting had before it was renamed (the field's alias tag)
		for old, name := range aliases(reflect.TypeOf(cfg)) {
			if v, ok := fields[old]; ok {
				if _, clash := fields[name]; !clash {
					fields[name] = v
				}
				delete(fields, old)
			}
		}
		raw, _ = json.Marshal(fields)
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(cfg); err != nil {
			return errors.Wrapf(err, "config %s", configPath)
		}
	}
	return fs.Parse(args)
}

// aliases maps the old json keys of renamed settings (a field's `alias` tag) to
// their json keys, over t and the structs it embeds.
func aliases(t reflect.Type) map[string]string {
	out := map[string]string{}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			for k, v := range aliases(f.Type) {
				out[k] = v
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if alias := f.Tag.Get("alias"); alias != "" && name != "" {
			out[alias] = name
		}
	}
	return out
}
