package train

import (
	"math"
	"reflect"
	"strings"

	"github.com/pkg/errors"
)

// MaxSetting bounds every integer setting of a run (a size, a count, an
// interval): a larger one is a typing error, not a run this module can hold in
// memory, and is refused before anything is allocated.
const MaxSetting = 1 << 24

// CheckSettings reports the first setting of cfg (a config struct or a pointer to
// one) that no experiment can run with, whatever its own checks say: a float
// that is NaN or infinite, or a signed integer above MaxSetting. The settings
// are the exported fields that BindFlags binds (embedded and nested structs
// included), named as their flags. ParseFlags and Open call it, before the
// experiment's own Validate, so that every experiment refuses them alike.
func CheckSettings(cfg any) error {
	v := reflect.ValueOf(cfg)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	return checkStruct(v, "")
}

func checkStruct(v reflect.Value, prefix string) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Anonymous && fv.Kind() == reflect.Struct {
			if err := checkStruct(fv, prefix); err != nil {
				return err
			}
			continue
		}
		key := jsonKey(f)
		if key == "-" {
			continue
		}
		if key == "" {
			key = strings.ToLower(f.Name)
		}
		name := prefix + flagName(key)
		switch fv.Kind() {
		case reflect.Struct:
			if err := checkStruct(fv, name+"."); err != nil {
				return err
			}
		case reflect.Float32, reflect.Float64:
			if x := fv.Float(); math.IsNaN(x) || math.IsInf(x, 0) {
				return errors.Errorf("--%s %v: want a finite number", name, x)
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if n := fv.Int(); n > MaxSetting {
				return errors.Errorf("--%s %d: want at most %d", name, n, MaxSetting)
			}
		}
	}
	return nil
}
