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
//
// A group of settings shared by several experiments (an embedded struct such
// as Optim) describes its fields in general terms; the tag of the embedded
// field may reword the help text of a setting for one experiment, and give it
// an old json key that config files may still use (see ParseConfig), with
// keys of the form help.KEY and alias.KEY (KEY: the setting's json key):
//
//	train.Optim `help.lr:"peak Adam learning rate" alias.lr:"rate"`
func BindFlags(fs *flag.FlagSet, cfg any) {
	fs.String("config", "", "JSON file of hyperparameters; flags given on the command line override it")
	bindStruct(fs, reflect.ValueOf(cfg).Elem(), "", "")
}

// bindStruct binds the fields of the struct v; outer is the tag of the field
// that embeds v ("" at the top), whose help.KEY keys override the fields' help
// texts.
func bindStruct(fs *flag.FlagSet, v reflect.Value, prefix string, outer reflect.StructTag) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fv := v.Field(i)
		if f.Anonymous && fv.Kind() == reflect.Struct {
			bindStruct(fs, fv, prefix, f.Tag)
			continue
		}
		key := jsonKey(f)
		if !f.IsExported() || key == "-" || key == "" {
			continue
		}
		name := prefix + flagName(key)
		if fv.Kind() == reflect.Struct {
			bindStruct(fs, fv, name+".", "")
			continue
		}
		help, _ := settingTags(f, outer)
		fs.Var(&fieldFlag{v: fv}, name, help)
	}
}

// jsonKey returns the json key of a field ("" where it has none).
func jsonKey(f reflect.StructField) string {
	key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return key
}

// flagName returns the flag of a json key: its underscores as dashes.
func flagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

// settingTags returns the help text and the old json key of the field f, where
// outer, the tag of the field embedding f's struct, may override either.
func settingTags(f reflect.StructField, outer reflect.StructTag) (help, alias string) {
	key := jsonKey(f)
	help, alias = f.Tag.Get("help"), f.Tag.Get("alias")
	if h, ok := outer.Lookup("help." + key); ok {
		help = h
	}
	if a, ok := outer.Lookup("alias." + key); ok {
		alias = a
	}
	return help, alias
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

// aliases maps the old json keys of renamed settings (a field's `alias` tag, or
// the alias.KEY key of the field embedding its struct) to their json keys, over
// t and the structs it embeds.
func aliases(t reflect.Type) map[string]string {
	out := map[string]string{}
	addAliases(out, t, "")
	return out
}

func addAliases(out map[string]string, t reflect.Type, outer reflect.StructTag) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			addAliases(out, f.Type, f.Tag)
			continue
		}
		if _, alias := settingTags(f, outer); alias != "" && jsonKey(f) != "" {
			out[alias] = jsonKey(f)
		}
	}
}
