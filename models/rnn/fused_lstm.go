package rnn

import "github.com/triadml/triad/graph"

// lstmSeqForward runs the LSTM recurrence over the pre-activations c.gates, which
// hold X W_ih^T (completed by in0 with the bias b_ih + b_hh); c.hp and c.aux hold
// the initial state in the block of the first step processed. Per step (m the
// mask, 1 without one):
//
//	a += h_prev W_hh^T;  i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of a
//	c' = f c_prev + i g,  h' = o tanh(c')
//	h = h_prev + m (h' - h_prev),  c = c_prev + m (c' - c_prev),  out = m h
func lstmSeqForward[T graph.Float](c *seqBufs[T], s seqShape, in0 stepInput[T], whh, mask, y []T) {
	H, G := s.H, s.G
	for tau := 0; tau < s.T; tau++ {
		t := s.at(tau)
		in0.prepare(t)
		a := blk(c.gates, t, s.B, G)
		hp, cp, tc := blk(c.hp, t, s.B, H), blk(c.aux, t, s.B, H), blk(c.aux2, t, s.B, H)
		graph.Gemm(false, true, s.B, G, H, hp, H, whh, H, 1, a, G)
		hn, cn := next(c.hp, y, s, tau, s.T), next(c.aux, y, s, tau, s.T+1)
		out := blk(y, t, s.B, H)
		for b := 0; b < s.B; b++ {
			ar := a[b*G : (b+1)*G]
			in0.bias(ar)
			ai, af, ag, ao := ar[:H], ar[H:2*H], ar[2*H:3*H], ar[3*H:]
			o := b * H
			hpr, cpr, tcr := hp[o:o+H], cp[o:o+H], tc[o:o+H]
			hnr, cnr, outr := hn[o:o+H], cn[o:o+H], out[o:o+H]
			graph.Sigmoids(ar[:2*H])
			graph.Tanhs(ag, ag)
			graph.Sigmoids(ao)
			for j := range cnr {
				cnr[j] = af[j]*cpr[j] + ai[j]*ag[j]
			}
			graph.Tanhs(tcr, cnr)
			for j := range hnr {
				hnr[j] = ao[j] * tcr[j]
			}
			finishStep(mask, t*s.B+b, outr, hnr, hpr, cnr, cpr)
		}
	}
}

// lstmSeqBackward computes the gradients of the pre-activations of every step
// into c.dgx, of the biases into c.dbx, and of the initial state into c.dh, c.dc,
// from the gradient gy of the kernel's output.
func lstmSeqBackward[T graph.Float](c *seqBufs[T], s seqShape, whh, mask, gy []T) {
	H, G := s.H, s.G
	copy(c.dh, blk(gy, s.T, s.B, H))
	copy(c.dc, blk(gy, s.T+1, s.B, H))
	clear(c.dbx)
	for tau := s.T - 1; tau >= 0; tau-- {
		t := s.at(tau)
		a, da := blk(c.gates, t, s.B, G), blk(c.dgx, t, s.B, G)
		cp, tc, gout := blk(c.aux, t, s.B, H), blk(c.aux2, t, s.B, H), blk(gy, t, s.B, H)
		for b := 0; b < s.B; b++ {
			ar, dar := a[b*G:(b+1)*G], da[b*G:(b+1)*G]
			ai, af, ag, ao := ar[:H], ar[H:2*H], ar[2*H:3*H], ar[3*H:]
			di, df, dg, do := dar[:H], dar[H:2*H], dar[2*H:3*H], dar[3*H:]
			o := b * H
			dh, dc, cpr, tcr, goutr := c.dh[o:o+H], c.dc[o:o+H], cp[o:o+H], tc[o:o+H], gout[o:o+H]
			m := maskAt(mask, t*s.B+b)
			for j := range dh {
				// gradients of the step's new h' and c' (before the mask)
				dht := dh[j] + goutr[j]*m
				dhn, dcn := dht*m, dc[j]*m
				i, f, g, og, th := ai[j], af[j], ag[j], ao[j], tcr[j]
				dcn += dhn * og * (1 - th*th)
				vi, vf, vg, vo := dcn*g, dcn*cpr[j], dcn*i, dhn*th
				di[j], df[j], dg[j], do[j] = vi*i*(1-i), vf*f*(1-f), vg*(1-g*g), vo*og*(1-og)
				dh[j] = (1 - m) * dht
				dc[j] = (1-m)*dc[j] + dcn*f
			}
			graph.AddTo(c.dbx, dar)
		}
		// dh_prev += dA_t W_hh
		graph.Gemm(false, false, s.B, H, G, da, G, whh, H, 1, c.dh, H)
	}
}

// finishStep applies the mask to row i of a step: without a mask the output
// row out is the new state h; with one, h (and c, unless nil) move back toward
// the state the step started from, h = hp + (h - hp) m, and out = m h.
func finishStep[T graph.Float](mask []T, i int, out, h, hp, c, cp []T) {
	if mask == nil {
		copy(out, h)
		return
	}
	m := mask[i]
	for j := range hp {
		h[j] = hp[j] + (h[j]-hp[j])*m
		out[j] = h[j] * m
	}
	for j := range cp {
		c[j] = cp[j] + (c[j]-cp[j])*m
	}
}

// maskAt returns the mask of row i, 1 without a mask.
func maskAt[T graph.Float](mask []T, i int) T {
	if mask == nil {
		return 1
	}
	return mask[i]
}
