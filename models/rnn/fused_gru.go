package rnn

import "github.com/triadml/triad/graph"

// gruSeqForward runs the GRU recurrence over c.gates, which hold X W_ih^T
// (completed by in0 with b_ih); c.hp holds the initial state in the block of the
// first step processed. Per step (m the mask, 1 without one), with gx the step's
// row of c.gates:
//
//	gh = h_prev W_hh^T + b_hh;  r, z = sigmoid(gx_r + gh_r), sigmoid(gx_z + gh_z)
//	n = tanh(gx_n + r gh_n),  h' = (1 - z) n + z h_prev
//	h = h_prev + m (h' - h_prev),  out = m h
//
// It keeps r, z, n in c.gates and gh_n in c.aux.
func gruSeqForward[T graph.Float](c *seqBufs[T], s seqShape, in0 stepInput[T], whh, bhh, mask, y []T) {
	H, G := s.H, s.G
	for tau := 0; tau < s.T; tau++ {
		t := s.at(tau)
		in0.prepare(t)
		a, hp, ghn := blk(c.gates, t, s.B, G), blk(c.hp, t, s.B, H), blk(c.aux, t, s.B, H)
		for b := 0; b < s.B; b++ {
			copy(c.gh[b*G:(b+1)*G], bhh)
		}
		graph.Gemm(false, true, s.B, G, H, hp, H, whh, H, 1, c.gh, G)
		hn, out := next(c.hp, y, s, tau, s.T), blk(y, t, s.B, H)
		for b := 0; b < s.B; b++ {
			xr, hr := a[b*G:(b+1)*G], c.gh[b*G:(b+1)*G]
			in0.bias(xr)
			xrr, xrz, xrn := xr[:H], xr[H:2*H], xr[2*H:]
			hrn := hr[2*H:]
			o := b * H
			hpr, hnr, ghr, outr := hp[o:o+H], hn[o:o+H], ghn[o:o+H], out[o:o+H]
			graph.AddTo(xr[:2*H], hr[:2*H])
			graph.Sigmoids(xr[:2*H])
			for j, r := range xrr {
				xrn[j] += r * hrn[j]
			}
			graph.Tanhs(xrn, xrn)
			copy(ghr, hrn)
			for j, z := range xrz {
				hnr[j] = (1-z)*xrn[j] + z*hpr[j]
			}
			finishStep(mask, t*s.B+b, outr, hnr, hpr, nil, nil)
		}
	}
}

// gruSeqBackward computes the gradients of the input pre-activations (c.dgx), the
// recurrent ones (c.dgh, which differ in the n block: r times), the biases and
// the initial state (c.dh).
func gruSeqBackward[T graph.Float](c *seqBufs[T], s seqShape, whh, mask, gy []T) {
	H, G := s.H, s.G
	copy(c.dh, blk(gy, s.T, s.B, H))
	clear(c.dbx)
	clear(c.dbh)
	for tau := s.T - 1; tau >= 0; tau-- {
		t := s.at(tau)
		a, dx, dhh := blk(c.gates, t, s.B, G), blk(c.dgx, t, s.B, G), blk(c.dgh, t, s.B, G)
		hp, ghn, gout := blk(c.hp, t, s.B, H), blk(c.aux, t, s.B, H), blk(gy, t, s.B, H)
		for b := 0; b < s.B; b++ {
			ar, dxr, dhr := a[b*G:(b+1)*G], dx[b*G:(b+1)*G], dhh[b*G:(b+1)*G]
			gr, gz, gn := ar[:H], ar[H:2*H], ar[2*H:]
			o := b * H
			dh, hpr, ghr, goutr := c.dh[o:o+H], hp[o:o+H], ghn[o:o+H], gout[o:o+H]
			m := maskAt(mask, t*s.B+b)
			for j := range dh {
				dht := dh[j] + goutr[j]*m
				dhn := dht * m
				r, z, n := gr[j], gz[j], gn[j]
				dn := dhn * (1 - z) * (1 - n*n)
				dz := dhn * (hpr[j] - n) * z * (1 - z)
				dr := dn * ghr[j] * r * (1 - r)
				dxr[j], dxr[H+j], dxr[2*H+j] = dr, dz, dn
				dhr[j], dhr[H+j], dhr[2*H+j] = dr, dz, dn*r
				dh[j] = (1-m)*dht + dhn*z
			}
			graph.AddTo(c.dbx, dxr)
			graph.AddTo(c.dbh, dhr)
		}
		graph.Gemm(false, false, s.B, H, G, dhh, G, whh, H, 1, c.dh, H)
	}
}
