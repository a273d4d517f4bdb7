package jsonscan

import "testing"

func TestStrings(t *testing.T) {
	cases := []struct{ text, want string }{
		// want marks with 's' each byte InString reports as part of a string.
		{`[1, "a", 2]`, `....sss....`},
		{`{"k":"v"}`, `.sss.sss.`},
		{`["a\"b", "c\\", 3]`, `.ssssss..sssss....`},
		{`["[,]", ","]`, `.sssss..sss.`},
		{`""`, `ss`},
		{`[]`, `..`},
	}
	for _, c := range cases {
		var s Strings
		got := make([]byte, len(c.text))
		for i := 0; i < len(c.text); i++ {
			got[i] = '.'
			if s.InString(c.text[i]) {
				got[i] = 's'
			}
		}
		if string(got) != c.want {
			t.Errorf("%s: got %s, want %s", c.text, got, c.want)
		}
	}
}
