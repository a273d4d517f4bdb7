package train

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"

	"github.com/pkg/errors"
)

// Non-finite numbers in the run's JSON files. JSON has no number for NaN and the
// infinities, and encoding/json refuses them ("json: unsupported value: NaN"),
// which would stop a diverging run from writing its metrics or its summary.
// metrics.jsonl, summary.json and every file written with WriteJSON therefore
// hold a non-finite float as the string "NaN", "+Inf" or "-Inf" (what
// strconv.FormatFloat writes; Python's float() and strconv.ParseFloat read them
// back). A value without non-finite numbers is written exactly as encoding/json
// writes it. ReadMetrics, and the loop when it reads metrics.jsonl and
// summary.json, read those strings (and null) back as numbers.

// marshalJSON is json.Marshal (json.MarshalIndent with two spaces when indent)
// that writes non-finite floats as strings.
func marshalJSON(v any, indent bool) ([]byte, error) {
	raw, err := marshalPlain(v, indent)
	var unsupported *json.UnsupportedValueError
	if err == nil || !errors.As(err, &unsupported) {
		return raw, err
	}
	return marshalNonFinite(v, indent)
}

func marshalPlain(v any, indent bool) ([]byte, error) {
	if indent {
		return json.MarshalIndent(v, "", "  ")
	}
	return json.Marshal(v)
}

// marshalNonFinite marshals v with each non-finite float replaced by a
// placeholder, a subnormal number of the float's size that no metric is, then
// puts the float's string where the placeholder's text is. The floats are put
// back in v before it returns.
func marshalNonFinite(v any, indent bool) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer {
		p := reflect.New(rv.Type())
		p.Elem().Set(rv)
		rv = p
	}
	r := &replacer{}
	defer r.restore()
	r.walk(rv, 0)
	raw, err := marshalPlain(rv.Interface(), indent)
	if err != nil {
		return nil, err
	}
	for _, p := range r.placeholders {
		raw = replaceNumber(raw, p.text, []byte(strconv.Quote(strconv.FormatFloat(p.value, 'g', -1, 64))))
	}
	return raw, nil
}

// replacer swaps the non-finite floats of a value for placeholders.
type replacer struct {
	placeholders []placeholder
	undo         []func()
}

type placeholder struct {
	value float64 // the non-finite value
	text  []byte  // its placeholder as encoding/json writes it
}

func (r *replacer) restore() {
	for i := len(r.undo) - 1; i >= 0; i-- {
		r.undo[i]()
	}
}

// stand returns the placeholder of the next non-finite float of kind k.
func (r *replacer) stand(k reflect.Kind, value float64) reflect.Value {
	n := uint64(len(r.placeholders))
	var ph reflect.Value
	if k == reflect.Float32 {
		ph = reflect.ValueOf(math.Float32frombits(uint32(0x0051f3a7 + 7*n)))
	} else {
		ph = reflect.ValueOf(math.Float64frombits(0x000b1e55ed5a1f00 + 7*n))
	}
	text, _ := json.Marshal(ph.Interface())
	r.placeholders = append(r.placeholders, placeholder{value: value, text: text})
	return ph
}

func nonFinite(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.IsNaN(v.Float()) || math.IsInf(v.Float(), 0)
	}
	return false
}

// walk replaces the non-finite floats reachable from v (settable, or reached
// through a pointer) and reports whether it replaced any.
func (r *replacer) walk(v reflect.Value, depth int) bool {
	if depth > 64 {
		return false
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if nonFinite(v) && v.CanSet() {
			old := v.Float()
			v.Set(r.stand(v.Kind(), old).Convert(v.Type()))
			r.undo = append(r.undo, func() { v.SetFloat(old) })
			return true
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return r.walk(v.Elem(), depth+1)
		}
	case reflect.Interface:
		if v.IsNil() || !v.CanSet() {
			return false
		}
		old := v.Elem()
		copied := reflect.New(old.Type()).Elem()
		copied.Set(old)
		if r.walk(copied, depth+1) {
			v.Set(copied)
			r.undo = append(r.undo, func() { v.Set(old) })
			return true
		}
	case reflect.Struct:
		changed := false
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() && r.walk(v.Field(i), depth+1) {
				changed = true
			}
		}
		return changed
	case reflect.Slice, reflect.Array:
		changed := false
		for i := 0; i < v.Len(); i++ {
			if r.walk(v.Index(i), depth+1) {
				changed = true
			}
		}
		return changed
	case reflect.Map:
		changed := false
		iter := v.MapRange()
		type entry struct{ k, old, new reflect.Value }
		var entries []entry
		for iter.Next() {
			old := iter.Value()
			copied := reflect.New(old.Type()).Elem()
			copied.Set(old)
			if r.walk(copied, depth+1) {
				entries = append(entries, entry{iter.Key(), old, copied})
			}
		}
		for _, e := range entries {
			v.SetMapIndex(e.k, e.new)
			k, old := e.k, e.old
			r.undo = append(r.undo, func() { v.SetMapIndex(k, old) })
			changed = true
		}
		return changed
	}
	return false
}

// replaceNumber replaces the JSON number tokens of raw equal to number (and not
// part of a longer number or of a string) by with.
func replaceNumber(raw, number, with []byte) []byte {
	var out bytes.Buffer
	inString, escaped := false, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if inString {
			out.WriteByte(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			out.WriteByte(c)
			continue
		}
		if bytes.HasPrefix(raw[i:], number) && (i == 0 || !numberByte(raw[i-1])) &&
			(i+len(number) == len(raw) || !numberByte(raw[i+len(number)])) {
			out.Write(with)
			i += len(number) - 1
			continue
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}

func numberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'
}

// floats is a map of metrics as the run's files hold it: numbers, the strings
// of non-finite numbers, or null (NaN).
type floats map[string]float64

// UnmarshalJSON implements json.Unmarshaler.
func (m *floats) UnmarshalJSON(raw []byte) error {
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		*m = nil
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return err
	}
	out := make(floats, len(fields))
	for k, v := range fields {
		x, err := floatValue(v)
		if err != nil {
			return errors.Wrapf(err, "metric %q", k)
		}
		out[k] = x
	}
	*m = out
	return nil
}

// floatValue reads a number, null (NaN) or the string of a non-finite number.
func floatValue(raw json.RawMessage) (float64, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case bytes.Equal(raw, []byte("null")):
		return math.NaN(), nil
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
		switch s {
		case "NaN":
			return math.NaN(), nil
		case "+Inf", "Inf":
			return math.Inf(1), nil
		case "-Inf":
			return math.Inf(-1), nil
		}
		return 0, errors.Errorf("%q is not a number", s)
	}
	var x float64
	err := json.Unmarshal(raw, &x)
	return x, err
}

// decodePoint reads one line of metrics.jsonl.
func decodePoint(line []byte) (Point, error) {
	var aux struct {
		Point
		Metrics floats `json:"metrics"`
	}
	if err := json.Unmarshal(line, &aux); err != nil {
		return Point{}, err
	}
	p := aux.Point
	p.Metrics = aux.Metrics
	return p, nil
}

// decodePoints reads the lines of a metrics.jsonl (blank ones skipped) up to
// the first that is not a metrics point: the points before it, and that line's
// index and error (-1 and nil when every line is a point).
func decodePoints(raw []byte) ([]Point, int, error) {
	var out []Point
	for i, line := range bytes.Split(raw, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		p, err := decodePoint(line)
		if err != nil {
			return out, i, err
		}
		out = append(out, p)
	}
	return out, -1, nil
}

// decodeSummary reads summary.json (a Summary, or an experiment's summary that
// embeds one).
func decodeSummary(raw []byte) (Summary, error) {
	var aux struct {
		Summary
		Final floats `json:"final"`
		Best  floats `json:"best,omitempty"`
	}
	if err := json.Unmarshal(raw, &aux); err != nil {
		return Summary{}, err
	}
	s := aux.Summary
	s.Final, s.Best = aux.Final, aux.Best
	return s, nil
}
