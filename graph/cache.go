package graph

// Programs caches compiled programs by a key, usually their static shape (a
// bucket's lengths and batch size): each shape is compiled once, at first use,
// and reused for every later batch of that shape.
type Programs[K comparable, P interface{ Close() error }] struct {
	build func(K) (P, error)
	m     map[K]P
}

// NewPrograms returns an empty cache whose programs build compiles.
func NewPrograms[K comparable, P interface{ Close() error }](build func(K) (P, error)) *Programs[K, P] {
	return &Programs[K, P]{build: build, m: map[K]P{}}
}

// Get returns the program of key k, compiling it at first use.
func (c *Programs[K, P]) Get(k K) (P, error) {
	if p, ok := c.m[k]; ok {
		return p, nil
	}
	p, err := c.build(k)
	if err != nil {
		return p, err
	}
	c.m[k] = p
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
	return first
}
