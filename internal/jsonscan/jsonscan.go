// Package jsonscan helps byte-by-byte scans of JSON text that must tell the
// bytes of string literals from the structure around them.
package jsonscan

// Strings follows a scan of JSON text through its string literals. Its zero
// value starts outside any string.
type Strings struct {
	in, escaped bool
}

// InString takes the next byte c of the text and reports whether it belongs
// to a string literal, its quotes included.
func (s *Strings) InString(c byte) bool {
	switch {
	case !s.in:
		s.in = c == '"'
		return s.in
	case s.escaped:
		s.escaped = false
	case c == '\\':
		s.escaped = true
	case c == '"':
		s.in = false
	}
	return true
}
