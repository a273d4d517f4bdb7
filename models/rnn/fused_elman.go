package rnn

import "github.com/triadml/triad/graph"

// elmanSeqForward runs the Elman recurrence over c.gates, which hold X W_ih^T
// (completed by in0 with b_ih + b_hh): per step a += h_prev W_hh^T, h' = act(a)
// (tanh or ReLU), h = h_prev + m (h' - h_prev), out = m h. It keeps h' in
// c.gates.
func elmanSeqForward[T graph.Float](c *seqBufs[T], s seqShape, in0 stepInput[T], whh, mask, y []T, relu bool) {
	H := s.H
	for tau := 0; tau < s.T; tau++ {
		t := s.at(tau)
		in0.prepare(t)
		a, hp := blk(c.gates, t, s.B, H), blk(c.hp, t, s.B, H)
		graph.Gemm(false, true, s.B, H, H, hp, H, whh, H, 1, a, H)
		for b := 0; b < s.B; b++ {
			in0.bias(a[b*H : (b+1)*H])
		}
		hn, out := next(c.hp, y, s, tau, s.T), blk(y, t, s.B, H)
		if relu {
			for j, v := range a {
				a[j] = max(v, 0)
			}
		} else {
			graph.Tanhs(a, a)
		}
		if mask == nil {
			copy(hn, a)
			copy(out, a)
			continue
		}
		for b := 0; b < s.B; b++ {
			m := mask[t*s.B+b]
			o := b * H
			hpr, hnr, ar, outr := hp[o:o+H], hn[o:o+H], a[o:o+H], out[o:o+H]
			for j := range hpr {
				hnr[j] = hpr[j] + (ar[j]-hpr[j])*m
				outr[j] = hnr[j] * m
			}
		}
	}
}

// elmanSeqBackward computes the gradients of the pre-activations (c.dgx), the
// bias (c.dbx) and the initial state (c.dh).
func elmanSeqBackward[T graph.Float](c *seqBufs[T], s seqShape, whh, mask, gy []T, relu bool) {
	H := s.H
	copy(c.dh, blk(gy, s.T, s.B, H))
	clear(c.dbx)
	for tau := s.T - 1; tau >= 0; tau-- {
		t := s.at(tau)
		a, da, gout := blk(c.gates, t, s.B, H), blk(c.dgx, t, s.B, H), blk(gy, t, s.B, H)
		for b := 0; b < s.B; b++ {
			m := maskAt(mask, t*s.B+b)
			o := b * H
			dh, ar, dar, goutr := c.dh[o:o+H], a[o:o+H], da[o:o+H], gout[o:o+H]
			for j := range dh {
				dht := dh[j] + goutr[j]*m
				dhn := dht * m
				h := ar[j]
				if relu {
					if h > 0 {
						dar[j] = dhn
					} else {
						dar[j] = 0
					}
				} else {
					dar[j] = dhn * (1 - h*h)
				}
				dh[j] = (1 - m) * dht
			}
			graph.AddTo(c.dbx, dar)
		}
		graph.Gemm(false, false, s.B, H, H, da, H, whh, H, 1, c.dh, H)
	}
}
