package graph

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// SaltName leaves names alone without salt.
func TestSaltNames(t *testing.T) {
	require.Equal(t, "src.3", SaltName("src.3", 0))
	require.Equal(t, "src.3#2", SaltName("src.3", 2))
}
