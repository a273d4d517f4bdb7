// Package enum names the values of integer enumerations.
package enum

import (
	"fmt"
	"reflect"
)

// Name returns the name of v among names, which name the values 0, 1, 2, ...
// of v's type in order; a value without a name is written as its type's name
// and its number, "Smoothing(7)".
func Name[T ~int](v T, names ...string) string {
	if v >= 0 && int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", reflect.TypeOf(v).Name(), int(v))
}
