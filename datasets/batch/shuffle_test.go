package batch

import (
	"math/big"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// pcg12 returns the generator whose first outputs Go's own test of PCG lists
// (src/math/rand/v2/pcg_test.go, TestPCG: NewPCG(1, 2) gives 0xc4f5a58656eef510,
// 0x9dcec3ad077dec6c, 0xc8d04605312f8088, 0xcbedc0dcb63ac19a, 0x3bf98798cae97950,
// 0x0a8c6d7f8d485abc, 0x7ffa3780429cd279, 0x730ad2626b1c2f8e, 0x21ff2330f4a0ad99,
// ...).
func pcg12() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }

func TestPermByHand(t *testing.T) {
	if x := pcg12().Uint64(); x != 0xc4f5a58656eef510 {
		t.Fatalf("PCG(1,2) first output %#x: the generator changed", x)
	}
	// n = 5: j = floor(x*(i+1) / 2^64) for i = 4, 3, 2, 1 gives j = 3, 2, 2, 1
	// (x/2^64 = 0.769, 0.616, 0.784, 0.797), so the identity becomes
	// [0 1 2 4 3], [0 1 4 2 3], unchanged, unchanged.
	if got := Perm(pcg12(), 5); !reflect.DeepEqual(got, []int{0, 1, 4, 2, 3}) {
		t.Fatalf("Perm(5) = %v", got)
	}
	// n = 10, worked out the same way (j = 7 5 6 5 1 0 1 1 0 for i = 9..1).
	if got := Perm(pcg12(), 10); !reflect.DeepEqual(got, []int{2, 4, 3, 9, 0, 1, 8, 6, 5, 7}) {
		t.Fatalf("Perm(10) = %v", got)
	}
	if got := Perm(pcg12(), 0); len(got) != 0 {
		t.Fatalf("Perm(0) = %v", got)
	}
	if got := Perm(pcg12(), 1); !reflect.DeepEqual(got, []int{0}) {
		t.Fatalf("Perm(1) = %v", got)
	}
}

func TestPermProperties(t *testing.T) {
	for _, n := range []int{2, 3, 17, 1000} {
		a := Perm(rand.New(rand.NewPCG(42, 7)), n)
		b := Perm(rand.New(rand.NewPCG(42, 7)), n)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("n=%d: same seed, different permutations", n)
		}
		s := slices.Clone(a)
		slices.Sort(s)
		for i := range s {
			if s[i] != i {
				t.Fatalf("n=%d: %v is not a permutation", n, a)
			}
		}
	}
	a := Perm(rand.New(rand.NewPCG(1, 1)), 1000)
	b := Perm(rand.New(rand.NewPCG(2, 1)), 1000)
	if reflect.DeepEqual(a, b) {
		t.Fatal("different seeds give the same permutation of 1000")
	}
}

// TestPermUniform checks that all 6 permutations of 3 elements come up about
// equally often: 60,000 draws, expected 10,000 each, standard deviation
// sqrt(60000*(1/6)*(5/6)) ~ 91, so a 500 margin is more than 5 sigma.
func TestPermUniform(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	counts := map[[3]int]int{}
	for range 60000 {
		p := Perm(rng, 3)
		counts[[3]int{p[0], p[1], p[2]}]++
	}
	if len(counts) != 6 {
		t.Fatalf("%d distinct permutations, want 6", len(counts))
	}
	for p, c := range counts {
		if c < 9500 || c > 10500 {
			t.Errorf("permutation %v drawn %d times, want about 10000", p, c)
		}
	}
}

// TestIntnRejection checks intn against a direct statement of Lemire's method
// with math/big: draw x, accept floor(x*n / 2^64) unless (x*n mod 2^64) <
// 2^64 mod n. For n = 2^62+1, 2^64 mod n = 2^62-3, so about a quarter of the
// draws are rejected and the loop is exercised.
func TestIntnRejection(t *testing.T) {
	const n = 1<<62 + 1
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	bn := big.NewInt(n)
	threshold := new(big.Int).Mod(two64, bn)
	a, ref := pcg12(), pcg12()
	rejected := 0
	for range 200 {
		got := intn(a, n)
		var want *big.Int
		for {
			prod := new(big.Int).Mul(new(big.Int).SetUint64(ref.Uint64()), bn)
			hi, lo := new(big.Int).DivMod(prod, two64, new(big.Int))
			if lo.Cmp(threshold) >= 0 {
				want = hi
				break
			}
			rejected++
		}
		if int64(got) != want.Int64() {
			t.Fatalf("intn = %d, want %d", got, want)
		}
	}
	if rejected == 0 {
		t.Fatal("no draw was rejected: the test does not exercise the loop")
	}
}

func TestBatches(t *testing.T) {
	order := []int{5, 3, 1, 0, 2, 4, 6}
	got, err := Batches(order, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]int{{5, 3, 1}, {0, 2, 4}, {6}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Batches = %v, want %v", got, want)
	}
	got, _ = Batches(order, 3, true)
	if want := [][]int{{5, 3, 1}, {0, 2, 4}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Batches(dropLast) = %v, want %v", got, want)
	}
	got, _ = Batches(order[:6], 3, true)
	if len(got) != 2 {
		t.Fatalf("exact multiple: %v", got)
	}
	got, _ = Batches(nil, 3, false)
	if len(got) != 0 {
		t.Fatalf("Batches(nil) = %v", got)
	}
	// Appending to a batch must not overwrite the next one.
	got, _ = Batches(order, 3, false)
	_ = append(got[0], 99)
	if got[1][0] != 0 {
		t.Fatal("batches alias each other")
	}
	if _, err := Batches(order, 0, false); err == nil {
		t.Fatal("batch size 0: no error")
	}
}
