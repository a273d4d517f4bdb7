package graph

import G "gorgonia.org/gorgonia"

// liveValue follows the value of one kernel node through a run, so that its
// arena buffer is free for the requests that follow once the last node that
// reads it has run: as a framework that counts references frees an activation
// after the last gradient that needs it, instead of holding every value of the
// run until its end.
//
// Gorgonia's own operations (the sums of gradient contributions, reshapes)
// may hand on a view of their input or write their result into it, so a value
// that one of them reads counts as read by every kernel node and sink that
// reads what that operation gives, through any chain of such operations. Each
// of those runs after the operation, so once they all have run, nothing reads
// the value's memory again in the run.
type liveValue struct {
	readers int  // the kernel nodes and sinks that read the value (see above)
	left    int  // readers still to run in this run
	held    bool // the value lies in the arena buffer lent
	lent    int  // which of the run's buffers
}

// liveness is the liveValues of a program's kernel nodes.
type liveness []*liveValue

// traceLiveness gives every kernel node of g its liveValue, and every kernel
// node and sink the liveValues it is a reader of. It returns them all, for
// the runs to start from.
func traceLiveness(g *G.ExprGraph) liveness {
	inGraph := map[*G.Node]bool{}
	var all liveness
	for _, n := range g.AllNodes() {
		inGraph[n] = true
		if v := valueOf(n); v != nil {
			*v = &liveValue{}
			all = append(all, *v)
		}
		if r := readsOf(n); r != nil {
			*r = nil
		}
	}
	for _, n := range g.AllNodes() {
		v := valueOf(n)
		if v == nil {
			continue
		}
		seen := map[*G.Node]bool{}
		var visit func(*G.Node)
		visit = func(m *G.Node) {
			for it := g.To(m.ID()); it.Next(); {
				c := it.Node().(*G.Node)
				if seen[c] || !inGraph[c] {
					continue
				}
				seen[c] = true
				if r := readsOf(c); r != nil {
					*r = append(*r, *v)
					(*v).readers++
				} else {
					visit(c)
				}
			}
		}
		visit(n)
	}
	return all
}

// valueOf returns where a kernel node keeps its value's liveValue, nil for
// other nodes.
func valueOf(n *G.Node) **liveValue {
	switch op := n.Op().(type) {
	case *fwdOp:
		return &op.value
	case *bwdOp:
		return &op.value
	}
	return nil
}

// readsOf returns where a kernel node or sink keeps the liveValues it reads,
// nil for other nodes.
func readsOf(n *G.Node) *[]*liveValue {
	switch op := n.Op().(type) {
	case *fwdOp:
		return &op.reads
	case *bwdOp:
		return &op.reads
	case *sinkOp:
		return &op.reads
	}
	return nil
}

// start readies the values for a run.
func (l liveness) start() {
	for _, v := range l {
		v.left, v.held = v.readers, false
	}
}

// took records that v's value lies in the buffer the arena lent last.
func (v *liveValue) took(a *Arena) {
	if v != nil && len(a.lent) > 0 {
		v.lent, v.held = len(a.lent)-1, true
	}
}

// done records that a node has run, and frees the buffers of the values it
// was the last reader of.
func done(a *Arena, reads []*liveValue) {
	for _, v := range reads {
		v.left--
		if v.left == 0 && v.held {
			a.free(v.lent)
			v.held = false
		}
	}
}
