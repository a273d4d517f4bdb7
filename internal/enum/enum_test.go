package enum

import "testing"

type color int

func (c color) String() string { return Name(c, "red", "green") }

func TestName(t *testing.T) {
	for _, c := range []struct {
		v    color
		want string
	}{{0, "red"}, {1, "green"}, {2, "color(2)"}, {-1, "color(-1)"}} {
		if got := c.v.String(); got != c.want {
			t.Errorf("%d: %q, want %q", int(c.v), got, c.want)
		}
	}
}
