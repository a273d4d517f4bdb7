//go:build amd64 && !purego

#include "textflag.h"

// Eight-wide AVX2/FMA versions of sigmoids32 and tanhs32 (fastmath.go): the same
// algorithms, constants repeated in each of a vector's eight lanes.

DATA signmask<>+0(SB)/4, $0x80000000
DATA signmask<>+4(SB)/4, $0x80000000
DATA signmask<>+8(SB)/4, $0x80000000
DATA signmask<>+12(SB)/4, $0x80000000
DATA signmask<>+16(SB)/4, $0x80000000
DATA signmask<>+20(SB)/4, $0x80000000
DATA signmask<>+24(SB)/4, $0x80000000
DATA signmask<>+28(SB)/4, $0x80000000
GLOBL signmask<>(SB), RODATA|NOPTR, $32

DATA absmask<>+0(SB)/4, $0x7fffffff
DATA absmask<>+4(SB)/4, $0x7fffffff
DATA absmask<>+8(SB)/4, $0x7fffffff
DATA absmask<>+12(SB)/4, $0x7fffffff
DATA absmask<>+16(SB)/4, $0x7fffffff
DATA absmask<>+20(SB)/4, $0x7fffffff
DATA absmask<>+24(SB)/4, $0x7fffffff
DATA absmask<>+28(SB)/4, $0x7fffffff
GLOBL absmask<>(SB), RODATA|NOPTR, $32

DATA expmin<>+0(SB)/4, $0xc2ae0000
DATA expmin<>+4(SB)/4, $0xc2ae0000
DATA expmin<>+8(SB)/4, $0xc2ae0000
DATA expmin<>+12(SB)/4, $0xc2ae0000
DATA expmin<>+16(SB)/4, $0xc2ae0000
DATA expmin<>+20(SB)/4, $0xc2ae0000
DATA expmin<>+24(SB)/4, $0xc2ae0000
DATA expmin<>+28(SB)/4, $0xc2ae0000
GLOBL expmin<>(SB), RODATA|NOPTR, $32

DATA expmax<>+0(SB)/4, $0x42b00000
DATA expmax<>+4(SB)/4, $0x42b00000
DATA expmax<>+8(SB)/4, $0x42b00000
DATA expmax<>+12(SB)/4, $0x42b00000
DATA expmax<>+16(SB)/4, $0x42b00000
DATA expmax<>+20(SB)/4, $0x42b00000
DATA expmax<>+24(SB)/4, $0x42b00000
DATA expmax<>+28(SB)/4, $0x42b00000
GLOBL expmax<>(SB), RODATA|NOPTR, $32

DATA log2e<>+0(SB)/4, $0x3fb8aa3b
DATA log2e<>+4(SB)/4, $0x3fb8aa3b
DATA log2e<>+8(SB)/4, $0x3fb8aa3b
DATA log2e<>+12(SB)/4, $0x3fb8aa3b
DATA log2e<>+16(SB)/4, $0x3fb8aa3b
DATA log2e<>+20(SB)/4, $0x3fb8aa3b
DATA log2e<>+24(SB)/4, $0x3fb8aa3b
DATA log2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL log2e<>(SB), RODATA|NOPTR, $32

DATA ln2hi<>+0(SB)/4, $0x3f318000
DATA ln2hi<>+4(SB)/4, $0x3f318000
DATA ln2hi<>+8(SB)/4, $0x3f318000
DATA ln2hi<>+12(SB)/4, $0x3f318000
DATA ln2hi<>+16(SB)/4, $0x3f318000
DATA ln2hi<>+20(SB)/4, $0x3f318000
DATA ln2hi<>+24(SB)/4, $0x3f318000
DATA ln2hi<>+28(SB)/4, $0x3f318000
GLOBL ln2hi<>(SB), RODATA|NOPTR, $32

DATA ln2lo<>+0(SB)/4, $0xb95e8083
DATA ln2lo<>+4(SB)/4, $0xb95e8083
DATA ln2lo<>+8(SB)/4, $0xb95e8083
DATA ln2lo<>+12(SB)/4, $0xb95e8083
DATA ln2lo<>+16(SB)/4, $0xb95e8083
DATA ln2lo<>+20(SB)/4, $0xb95e8083
DATA ln2lo<>+24(SB)/4, $0xb95e8083
DATA ln2lo<>+28(SB)/4, $0xb95e8083
GLOBL ln2lo<>(SB), RODATA|NOPTR, $32

DATA e0<>+0(SB)/4, $0x39506967
DATA e0<>+4(SB)/4, $0x39506967
DATA e0<>+8(SB)/4, $0x39506967
DATA e0<>+12(SB)/4, $0x39506967
DATA e0<>+16(SB)/4, $0x39506967
DATA e0<>+20(SB)/4, $0x39506967
DATA e0<>+24(SB)/4, $0x39506967
DATA e0<>+28(SB)/4, $0x39506967
GLOBL e0<>(SB), RODATA|NOPTR, $32

DATA e1<>+0(SB)/4, $0x3ab743ce
DATA e1<>+4(SB)/4, $0x3ab743ce
DATA e1<>+8(SB)/4, $0x3ab743ce
DATA e1<>+12(SB)/4, $0x3ab743ce
DATA e1<>+16(SB)/4, $0x3ab743ce
DATA e1<>+20(SB)/4, $0x3ab743ce
DATA e1<>+24(SB)/4, $0x3ab743ce
DATA e1<>+28(SB)/4, $0x3ab743ce
GLOBL e1<>(SB), RODATA|NOPTR, $32

DATA e2<>+0(SB)/4, $0x3c088908
DATA e2<>+4(SB)/4, $0x3c088908
DATA e2<>+8(SB)/4, $0x3c088908
DATA e2<>+12(SB)/4, $0x3c088908
DATA e2<>+16(SB)/4, $0x3c088908
DATA e2<>+20(SB)/4, $0x3c088908
DATA e2<>+24(SB)/4, $0x3c088908
DATA e2<>+28(SB)/4, $0x3c088908
GLOBL e2<>(SB), RODATA|NOPTR, $32

DATA e3<>+0(SB)/4, $0x3d2aa9c1
DATA e3<>+4(SB)/4, $0x3d2aa9c1
DATA e3<>+8(SB)/4, $0x3d2aa9c1
DATA e3<>+12(SB)/4, $0x3d2aa9c1
DATA e3<>+16(SB)/4, $0x3d2aa9c1
DATA e3<>+20(SB)/4, $0x3d2aa9c1
DATA e3<>+24(SB)/4, $0x3d2aa9c1
DATA e3<>+28(SB)/4, $0x3d2aa9c1
GLOBL e3<>(SB), RODATA|NOPTR, $32

DATA e4<>+0(SB)/4, $0x3e2aaaaa
DATA e4<>+4(SB)/4, $0x3e2aaaaa
DATA e4<>+8(SB)/4, $0x3e2aaaaa
DATA e4<>+12(SB)/4, $0x3e2aaaaa
DATA e4<>+16(SB)/4, $0x3e2aaaaa
DATA e4<>+20(SB)/4, $0x3e2aaaaa
DATA e4<>+24(SB)/4, $0x3e2aaaaa
DATA e4<>+28(SB)/4, $0x3e2aaaaa
GLOBL e4<>(SB), RODATA|NOPTR, $32

DATA e5<>+0(SB)/4, $0x3f000000
DATA e5<>+4(SB)/4, $0x3f000000
DATA e5<>+8(SB)/4, $0x3f000000
DATA e5<>+12(SB)/4, $0x3f000000
DATA e5<>+16(SB)/4, $0x3f000000
DATA e5<>+20(SB)/4, $0x3f000000
DATA e5<>+24(SB)/4, $0x3f000000
DATA e5<>+28(SB)/4, $0x3f000000
GLOBL e5<>(SB), RODATA|NOPTR, $32

DATA one<>+0(SB)/4, $0x3f800000
DATA one<>+4(SB)/4, $0x3f800000
DATA one<>+8(SB)/4, $0x3f800000
DATA one<>+12(SB)/4, $0x3f800000
DATA one<>+16(SB)/4, $0x3f800000
DATA one<>+20(SB)/4, $0x3f800000
DATA one<>+24(SB)/4, $0x3f800000
DATA one<>+28(SB)/4, $0x3f800000
GLOBL one<>(SB), RODATA|NOPTR, $32

DATA two<>+0(SB)/4, $0x40000000
DATA two<>+4(SB)/4, $0x40000000
DATA two<>+8(SB)/4, $0x40000000
DATA two<>+12(SB)/4, $0x40000000
DATA two<>+16(SB)/4, $0x40000000
DATA two<>+20(SB)/4, $0x40000000
DATA two<>+24(SB)/4, $0x40000000
DATA two<>+28(SB)/4, $0x40000000
GLOBL two<>(SB), RODATA|NOPTR, $32

DATA bias<>+0(SB)/4, $0x0000007f
DATA bias<>+4(SB)/4, $0x0000007f
DATA bias<>+8(SB)/4, $0x0000007f
DATA bias<>+12(SB)/4, $0x0000007f
DATA bias<>+16(SB)/4, $0x0000007f
DATA bias<>+20(SB)/4, $0x0000007f
DATA bias<>+24(SB)/4, $0x0000007f
DATA bias<>+28(SB)/4, $0x0000007f
GLOBL bias<>(SB), RODATA|NOPTR, $32

DATA t0<>+0(SB)/4, $0xbbbaf0ea
DATA t0<>+4(SB)/4, $0xbbbaf0ea
DATA t0<>+8(SB)/4, $0xbbbaf0ea
DATA t0<>+12(SB)/4, $0xbbbaf0ea
DATA t0<>+16(SB)/4, $0xbbbaf0ea
DATA t0<>+20(SB)/4, $0xbbbaf0ea
DATA t0<>+24(SB)/4, $0xbbbaf0ea
DATA t0<>+28(SB)/4, $0xbbbaf0ea
GLOBL t0<>(SB), RODATA|NOPTR, $32

DATA t1<>+0(SB)/4, $0x3ca9134e
DATA t1<>+4(SB)/4, $0x3ca9134e
DATA t1<>+8(SB)/4, $0x3ca9134e
DATA t1<>+12(SB)/4, $0x3ca9134e
DATA t1<>+16(SB)/4, $0x3ca9134e
DATA t1<>+20(SB)/4, $0x3ca9134e
DATA t1<>+24(SB)/4, $0x3ca9134e
DATA t1<>+28(SB)/4, $0x3ca9134e
GLOBL t1<>(SB), RODATA|NOPTR, $32

DATA t2<>+0(SB)/4, $0xbd5c1e2d
DATA t2<>+4(SB)/4, $0xbd5c1e2d
DATA t2<>+8(SB)/4, $0xbd5c1e2d
DATA t2<>+12(SB)/4, $0xbd5c1e2d
DATA t2<>+16(SB)/4, $0xbd5c1e2d
DATA t2<>+20(SB)/4, $0xbd5c1e2d
DATA t2<>+24(SB)/4, $0xbd5c1e2d
DATA t2<>+28(SB)/4, $0xbd5c1e2d
GLOBL t2<>(SB), RODATA|NOPTR, $32

DATA t3<>+0(SB)/4, $0x3e088393
DATA t3<>+4(SB)/4, $0x3e088393
DATA t3<>+8(SB)/4, $0x3e088393
DATA t3<>+12(SB)/4, $0x3e088393
DATA t3<>+16(SB)/4, $0x3e088393
DATA t3<>+20(SB)/4, $0x3e088393
DATA t3<>+24(SB)/4, $0x3e088393
DATA t3<>+28(SB)/4, $0x3e088393
GLOBL t3<>(SB), RODATA|NOPTR, $32

DATA t4<>+0(SB)/4, $0xbeaaaa99
DATA t4<>+4(SB)/4, $0xbeaaaa99
DATA t4<>+8(SB)/4, $0xbeaaaa99
DATA t4<>+12(SB)/4, $0xbeaaaa99
DATA t4<>+16(SB)/4, $0xbeaaaa99
DATA t4<>+20(SB)/4, $0xbeaaaa99
DATA t4<>+24(SB)/4, $0xbeaaaa99
DATA t4<>+28(SB)/4, $0xbeaaaa99
GLOBL t4<>(SB), RODATA|NOPTR, $32

DATA small<>+0(SB)/4, $0x3f200000
DATA small<>+4(SB)/4, $0x3f200000
DATA small<>+8(SB)/4, $0x3f200000
DATA small<>+12(SB)/4, $0x3f200000
DATA small<>+16(SB)/4, $0x3f200000
DATA small<>+20(SB)/4, $0x3f200000
DATA small<>+24(SB)/4, $0x3f200000
DATA small<>+28(SB)/4, $0x3f200000
GLOBL small<>(SB), RODATA|NOPTR, $32

// func sigmoids32AVX2(v []float32): v[i] = 1 / (1 + e^-v[i]); len(v) a multiple of 8.
TEXT ·sigmoids32AVX2(SB), NOSPLIT, $0-24
	MOVQ v_base+0(FP), SI
	MOVQ v_len+8(FP), CX
	SHRQ $3, CX
	JZ   sdone
sloop:
	VMOVUPS (SI), Y0
	VXORPS signmask<>(SB), Y0, Y0
	VMAXPS expmin<>(SB), Y0, Y0
	VMINPS expmax<>(SB), Y0, Y0
	VMULPS log2e<>(SB), Y0, Y1
	VROUNDPS $0, Y1, Y1
	VFNMADD231PS ln2hi<>(SB), Y1, Y0
	VFNMADD231PS ln2lo<>(SB), Y1, Y0
	VCVTPS2DQ Y1, Y1
	VMOVUPS e0<>(SB), Y3
	VFMADD213PS e1<>(SB), Y0, Y3
	VFMADD213PS e2<>(SB), Y0, Y3
	VFMADD213PS e3<>(SB), Y0, Y3
	VFMADD213PS e4<>(SB), Y0, Y3
	VFMADD213PS e5<>(SB), Y0, Y3
	VMULPS Y0, Y0, Y2
	VFMADD213PS Y0, Y2, Y3
	VADDPS one<>(SB), Y3, Y3
	VPADDD bias<>(SB), Y1, Y1
	VPSLLD $23, Y1, Y1
	VMULPS Y1, Y3, Y3
	VADDPS one<>(SB), Y3, Y3
	VMOVUPS one<>(SB), Y0
	VDIVPS Y3, Y0, Y0
	VMOVUPS Y0, (SI)
	ADDQ $32, SI
	DECQ CX
	JNZ  sloop
sdone:
	VZEROUPPER
	RET

// func tanhs32AVX2(dst, src []float32): dst[i] = tanh(src[i]); len(src) a multiple
// of 8, len(dst) >= len(src).
TEXT ·tanhs32AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $3, CX
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
	VMINPS expmax<>(SB), Y4, Y4
	VMULPS log2e<>(SB), Y4, Y6
	VROUNDPS $0, Y6, Y6
	VFNMADD231PS ln2hi<>(SB), Y6, Y4
	VFNMADD231PS ln2lo<>(SB), Y6, Y4
	VCVTPS2DQ Y6, Y6
	VMOVUPS e0<>(SB), Y5
	VFMADD213PS e1<>(SB), Y4, Y5
	VFMADD213PS e2<>(SB), Y4, Y5
	VFMADD213PS e3<>(SB), Y4, Y5
	VFMADD213PS e4<>(SB), Y4, Y5
	VFMADD213PS e5<>(SB), Y4, Y5
	VMULPS Y4, Y4, Y7
	VFMADD213PS Y4, Y7, Y5
	VADDPS one<>(SB), Y5, Y5
	VPADDD bias<>(SB), Y6, Y6
	VPSLLD $23, Y6, Y6
	VMULPS Y6, Y5, Y5
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
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  tloop
tdone:
	VZEROUPPER
	RET
