//go:build amd64 && !purego

#include "textflag.h"

// Eight-wide AVX2/FMA versions of graph's sigmoids32, tanhs32 and the exponentials
// of ExpsShifted32 (graph/fastmath.go), and of solvers' Adam update
// (solvers/adam.go): the same algorithms, constants repeated in each of a
// vector's eight lanes.

// SPLAT8 defines the 32 bytes name<>: the 32-bit value v in each of eight lanes.
#define SPLAT8(name, v) \
	DATA name<>+0(SB)/4, $v; \
	DATA name<>+4(SB)/4, $v; \
	DATA name<>+8(SB)/4, $v; \
	DATA name<>+12(SB)/4, $v; \
	DATA name<>+16(SB)/4, $v; \
	DATA name<>+20(SB)/4, $v; \
	DATA name<>+24(SB)/4, $v; \
	DATA name<>+28(SB)/4, $v; \
	GLOBL name<>(SB), RODATA|NOPTR, $32

SPLAT8(signmask, 0x80000000)
SPLAT8(absmask, 0x7fffffff)
SPLAT8(expmin, 0xc2ae0000)
SPLAT8(expmax, 0x42b00000)
SPLAT8(log2e, 0x3fb8aa3b)
SPLAT8(ln2hi, 0x3f318000)
SPLAT8(ln2lo, 0xb95e8083)
SPLAT8(e0, 0x39506967)
SPLAT8(e1, 0x3ab743ce)
SPLAT8(e2, 0x3c088908)
SPLAT8(e3, 0x3d2aa9c1)
SPLAT8(e4, 0x3e2aaaaa)
SPLAT8(e5, 0x3f000000)
SPLAT8(one, 0x3f800000)
SPLAT8(two, 0x40000000)
SPLAT8(bias, 0x0000007f)
SPLAT8(t0, 0xbbbaf0ea)
SPLAT8(t1, 0x3ca9134e)
SPLAT8(t2, 0xbd5c1e2d)
SPLAT8(t3, 0x3e088393)
SPLAT8(t4, 0xbeaaaa99)
SPLAT8(small, 0x3f200000)
SPLAT8(exp32lo, 0xc2adcccd)
SPLAT8(neginf, 0xff800000)
SPLAT8(negmax, 0xff7fffff)

// EXPPS sets p = e^x in each lane of x, after clamping x to [expmin, expmax]:
// x = k ln2 + r with k = round(x log2e), e^r = 1 + r + r^2 P(r), and 2^k built
// in the exponent bits of k. It overwrites x, k and t.
#define EXPPS(x, k, p, t) \
	VMAXPS expmin<>(SB), x, x; \
	VMINPS expmax<>(SB), x, x; \
	VMULPS log2e<>(SB), x, k; \
	VROUNDPS $0, k, k; \
	VFNMADD231PS ln2hi<>(SB), k, x; \
	VFNMADD231PS ln2lo<>(SB), k, x; \
	VCVTPS2DQ k, k; \
	VMOVUPS e0<>(SB), p; \
	VFMADD213PS e1<>(SB), x, p; \
	VFMADD213PS e2<>(SB), x, p; \
	VFMADD213PS e3<>(SB), x, p; \
	VFMADD213PS e4<>(SB), x, p; \
	VFMADD213PS e5<>(SB), x, p; \
	VMULPS x, x, t; \
	VFMADD213PS x, t, p; \
	VADDPS one<>(SB), p, p; \
	VPADDD bias<>(SB), k, k; \
	VPSLLD $23, k, k; \
	VMULPS k, p, p

// DSTSRC loads the bases of the arguments dst and src []float32 into DI and SI
// and the number of src's eight-lane blocks into CX, setting ZF where there is
// none.
#define DSTSRC \
	MOVQ dst_base+0(FP), DI; \
	MOVQ src_base+24(FP), SI; \
	MOVQ src_len+32(FP), CX; \
	SHRQ $3, CX

// NEXT8 moves SI on by eight lanes and jumps to loop while blocks are left in
// CX; NEXT8DST moves DI on with it.
#define NEXT8(loop) \
	ADDQ $32, SI; \
	DECQ CX; \
	JNZ  loop

#define NEXT8DST(loop) \
	ADDQ $32, DI; \
	NEXT8(loop)

// func Sigmoids32(v []float32): v[i] = 1 / (1 + e^-v[i]); len(v) a multiple of 8.
TEXT ·Sigmoids32(SB), NOSPLIT, $0-24
	MOVQ v_base+0(FP), SI
	MOVQ v_len+8(FP), CX
	SHRQ $3, CX
	JZ   sdone
sloop:
	VMOVUPS (SI), Y0
	VXORPS signmask<>(SB), Y0, Y0
	EXPPS(Y0, Y1, Y3, Y2)
	VADDPS one<>(SB), Y3, Y3
	VMOVUPS one<>(SB), Y0
	VDIVPS Y3, Y0, Y0
	VMOVUPS Y0, (SI)
	NEXT8(sloop)
sdone:
	VZEROUPPER
	RET

// func Tanhs32(dst, src []float32): dst[i] = tanh(src[i]); len(src) a multiple
// of 8, len(dst) >= len(src).
TEXT ·Tanhs32(SB), NOSPLIT, $0-48
	DSTSRC
	JZ   tdone
tloop:
	VMOVUPS (SI), Y0
	VANDPS absmask<>(SB), Y0, Y1
	// near zero: x + x z P(z), z = x^2
	VMULPS Y0, Y0, Y2
	VMOVUPS t0<>(SB), Y3
	VFMADD213PS t1<>(SB), Y2, Y3
	VFMADD213PS t2<>(SB), Y2, Y3
	VFMADD213PS t3<>(SB), Y2, Y3
	VFMADD213PS t4<>(SB), Y2, Y3
	VMULPS Y2, Y3, Y3
	VFMADD213PS Y0, Y0, Y3
	// elsewhere: 1 - 2 / (e^(2|x|) + 1), with x's sign
	VADDPS Y1, Y1, Y4
	EXPPS(Y4, Y6, Y5, Y7)
	VADDPS one<>(SB), Y5, Y5
	VMOVUPS two<>(SB), Y6
	VDIVPS Y5, Y6, Y6
	VMOVUPS one<>(SB), Y5
	VSUBPS Y6, Y5, Y5
	VANDPS signmask<>(SB), Y0, Y6
	VORPS Y6, Y5, Y5
	VCMPPS $1, small<>(SB), Y1, Y6
	VBLENDVPS Y6, Y3, Y5, Y5
	VMOVUPS Y5, (DI)
	NEXT8DST(tloop)
tdone:
	VZEROUPPER
	RET

// func ExpsShifted32(dst, src []float32, shift float32): dst[i] = e^(src[i]
// - shift), 0 where the difference is below exp32Lo (-86.9, as Exp32); len(src) a multiple of 8,
// len(dst) >= len(src).
TEXT ·ExpsShifted32(SB), NOSPLIT, $0-52
	VBROADCASTSS shift+48(FP), Y8
	DSTSRC
	JZ   xdone
xloop:
	VMOVUPS (SI), Y0
	VSUBPS Y8, Y0, Y0
	// lanes below exp32lo (a -Inf included) give 0
	VCMPPS $5, exp32lo<>(SB), Y0, Y9
	EXPPS(Y0, Y1, Y3, Y2)
	VANDPS Y9, Y3, Y3
	VMOVUPS Y3, (DI)
	NEXT8DST(xloop)
xdone:
	VZEROUPPER
	RET

// func Max32(x []float32) (m float32, nan bool): the largest of x (-Inf for
// none) and whether x holds a NaN; len(x) a multiple of 8.
TEXT ·Max32(SB), NOSPLIT, $0-29
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VMOVUPS neginf<>(SB), Y0
	VXORPS Y1, Y1, Y1
	SHRQ $3, CX
	JZ   mdone
mloop:
	VMOVUPS (SI), Y2
	// unordered lanes: NaN
	VCMPPS $3, Y2, Y2, Y3
	VORPS Y3, Y1, Y1
	VMAXPS Y2, Y0, Y0
	NEXT8(mloop)
mdone:
	VEXTRACTF128 $1, Y0, X2
	VMAXPS X2, X0, X0
	VPERMILPS $0x4e, X0, X2
	VMAXPS X2, X0, X0
	VPERMILPS $0xb1, X0, X2
	VMAXPS X2, X0, X0
	VMOVSS X0, m+24(FP)
	VMOVMSKPS Y1, AX
	TESTL AX, AX
	SETNE nan+28(FP)
	VZEROUPPER
	RET

// func AdamDecoupled32(w, g, m, v []float32, decay, b1, c1, b2, c2, negStep,
// bc2Sqrt, eps float32): one Adam step with decoupled decay, lane by lane in the
// scalar update's order; len(w) a multiple of 8.
TEXT ·AdamDecoupled32(SB), NOSPLIT, $0-128
	MOVQ w_base+0(FP), DI
	MOVQ g_base+24(FP), SI
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	MOVQ w_len+8(FP), CX
	VBROADCASTSS decay+96(FP), Y8
	VBROADCASTSS b1+100(FP), Y9
	VBROADCASTSS c1+104(FP), Y10
	VBROADCASTSS b2+108(FP), Y11
	VBROADCASTSS c2+112(FP), Y12
	VBROADCASTSS negStep+116(FP), Y13
	VBROADCASTSS bc2Sqrt+120(FP), Y14
	VBROADCASTSS eps+124(FP), Y15
	SHRQ $3, CX
	JZ   adone
aloop:
	VMULPS (DI), Y8, Y0
	VMOVUPS (SI), Y1
	// m = m*b1 + c1*g
	VMULPS (R8), Y9, Y2
	VMULPS Y1, Y10, Y3
	VADDPS Y3, Y2, Y2
	VMOVUPS Y2, (R8)
	// v = v*b2 + (c2*g)*g
	VMULPS (R9), Y11, Y4
	VMULPS Y1, Y12, Y5
	VMULPS Y1, Y5, Y5
	VADDPS Y5, Y4, Y4
	VMOVUPS Y4, (R9)
	// w = w + (negStep*m) / (sqrt(v)/bc2Sqrt + eps)
	VSQRTPS Y4, Y6
	VDIVPS Y14, Y6, Y6
	VADDPS Y15, Y6, Y6
	VMULPS Y2, Y13, Y7
	VDIVPS Y6, Y7, Y7
	VADDPS Y7, Y0, Y0
	VMOVUPS Y0, (DI)
	VXORPS Y3, Y3, Y3
	VMOVUPS Y3, (SI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	DECQ CX
	JNZ  aloop
adone:
	VZEROUPPER
	RET

// func DotRows32(dst, x, m []float32, ld int): dst[j] = x . m[j*ld:j*ld+len(x)],
// len(x) a multiple of 8.
TEXT ·DotRows32(SB), NOSPLIT, $0-80
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), DX
	MOVQ m_base+48(FP), R12
	MOVQ ld+72(FP), R10
	SHLQ $2, R10
	SHRQ $3, DX
	JZ   ddone
	TESTQ CX, CX
	JZ   ddone
drow:
	VXORPS Y0, Y0, Y0
	MOVQ SI, R9
	MOVQ R12, R8
	MOVQ DX, BX
dcol:
	VMOVUPS (R9), Y1
	VFMADD231PS (R8), Y1, Y0
	ADDQ $32, R9
	ADDQ $32, R8
	DECQ BX
	JNZ  dcol
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VADDSS X1, X0, X0
	VMOVSS X0, (DI)
	ADDQ $4, DI
	ADDQ R10, R12
	DECQ CX
	JNZ  drow
ddone:
	VZEROUPPER
	RET

// func MixRows32(dst, w, m []float32, ld int): dst = sum_j w[j] m[j*ld:j*ld+len(dst)],
// len(dst) a multiple of 8.
TEXT ·MixRows32(SB), NOSPLIT, $0-80
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), DX
	MOVQ w_base+24(FP), SI
	MOVQ w_len+32(FP), CX
	MOVQ m_base+48(FP), R8
	MOVQ ld+72(FP), R10
	SHLQ $2, R10
	SHRQ $3, DX
	JZ   xdone
xblock:
	VXORPS Y0, Y0, Y0
	MOVQ SI, R9
	MOVQ R8, R11
	MOVQ CX, BX
	TESTQ BX, BX
	JZ   xstore
xrow:
	VBROADCASTSS (R9), Y1
	VFMADD231PS (R11), Y1, Y0
	ADDQ $4, R9
	ADDQ R10, R11
	DECQ BX
	JNZ  xrow
xstore:
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, R8
	DECQ DX
	JNZ  xblock
xdone:
	VZEROUPPER
	RET

// func Add32(dst, src []float32): dst[i] += src[i], len(dst) a multiple of 8.
TEXT ·Add32(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	SHRQ $3, CX
	JZ   adddone
addloop:
	VMOVUPS (DI), Y0
	VADDPS (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNZ  addloop
adddone:
	VZEROUPPER
	RET

// func LogProbs32(dst, src []float32, max, logSum, masked float32): dst[i] =
// (src[i] - max) - logSum, masked where src[i] is -Inf; len(src) a multiple of
// 8, len(dst) >= len(src).
TEXT ·LogProbs32(SB), NOSPLIT, $0-60
	VBROADCASTSS max+48(FP), Y8
	VBROADCASTSS logSum+52(FP), Y9
	VBROADCASTSS masked+56(FP), Y10
	DSTSRC
	JZ   lpdone
lploop:
	VMOVUPS (SI), Y0
	VSUBPS Y8, Y0, Y1
	VSUBPS Y9, Y1, Y1
	// lanes not at -Inf (>= -MaxFloat32, ordered) keep the difference
	VCMPPS $0x1d, negmax<>(SB), Y0, Y2
	VBLENDVPS Y2, Y1, Y10, Y1
	VMOVUPS Y1, (DI)
	NEXT8DST(lploop)
lpdone:
	VZEROUPPER
	RET

// func Widen32(dst []float64, src []float32): dst[i] = float64(src[i]);
// len(src) a multiple of 8, len(dst) >= len(src).
TEXT ·Widen32(SB), NOSPLIT, $0-48
	DSTSRC
	JZ   wdone
wloop:
	VCVTPS2PD (SI), Y0
	VCVTPS2PD 16(SI), Y1
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	ADDQ $64, DI
	NEXT8(wloop)
wdone:
	VZEROUPPER
	RET
