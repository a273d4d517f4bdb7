package graph

import "slices"

// Programs caches compiled programs by a key, usually their static shape (a
// bucket's lengths and batch size): each shape is compiled once, at first use,
// and reused for every later batch of that shape. With a limit (Limit) it keeps
// the most recently used programs only, closing the others.
type Programs[K comparable, P interface{ Close() error }] struct {
	build func(K) (P, error)
	m     map[K]P
	limit int
	order []K // least recently used first, when limited
}

// NewPrograms returns an empty cache whose programs build compiles.
func NewPrograms[K comparable, P interface{ Close() error }](build func(K) (P, error)) *Programs[K, P] {
	return &Programs[K, P]{build: build, m: map[K]P{}}
}

// Limit makes the cache keep at most n programs (n <= 0: all), closing the
// least recently used one when a new one comes: for callers whose shapes keep
// changing (decoding steps, whose rows shrink as sentences finish and whose
// sources change from batch to batch), so that memory does not grow with the
// shapes seen. A program Get returned may then be closed by a later Get: use
// it before asking for another.
func (c *Programs[K, P]) Limit(n int) *Programs[K, P] {
	c.limit = n
	return c
}

// Get returns the program of key k, compiling it at first use.
func (c *Programs[K, P]) Get(k K) (P, error) {
	if p, ok := c.m[k]; ok {
		if c.limit > 0 {
			i := slices.Index(c.order, k)
			c.order = append(slices.Delete(c.order, i, i+1), k)
		}
		return p, nil
	}
	p, err := c.build(k)
	if err != nil {
		return p, err
	}
	c.m[k] = p
	if c.limit > 0 {
		c.order = append(c.order, k)
		for len(c.order) > c.limit {
			old := c.order[0]
			c.order = c.order[1:]
			if err := c.m[old].Close(); err != nil {
				return p, err
			}
			delete(c.m, old)
		}
	}
	return p, nil
}

// Len returns the number of compiled programs.
func (c *Programs[K, P]) Len() int { return len(c.m) }

// Reset closes every program and empties the cache, giving their memory back.
func (c *Programs[K, P]) Reset() error {
	var first error
	for k, p := range c.m {
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.m, k)
	}
	c.order = c.order[:0]
	return first
}
