package metrics_test

import (
	"fmt"

	"github.com/triadml/triad/metrics"
)

func ExampleSacreBLEU() {
	hyps := []string{"The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."}
	refs := [][]string{
		{"The dog bit the man.", "It was not unexpected.", "The man bit him first."},
		{"The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."},
	}
	s, err := metrics.SacreBLEU(hyps, refs, metrics.BLEUOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s)
	// Output:
	// BLEU|nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)
}

func ExampleTokenize13a() {
	fmt.Printf("%q\n", metrics.Tokenize13a(`He said &quot;3.5 km, 10-20 min.&quot;`))
	// Output:
	// ["He" "said" "\"" "3.5" "km" "," "10" "-" "20" "min" "." "\""]
}

func ExampleConfusionMatrix() {
	c, _ := metrics.NewConfusionMatrix(2, "neg", "pos")
	_ = c.AddBatch([]int{0, 0, 1, 1}, []int{0, 1, 1, 1})
	fmt.Print(c)
	// Output:
	// true\pred       neg       pos
	// neg               1         1
	// pos               0         2
	//
	// class     precision    recall        f1   support
	// neg          1.0000    0.5000    0.6667         2
	// pos          0.6667    1.0000    0.8000         2
	// accuracy 0.7500 (4 examples), macro F1 0.7333
}

func ExampleWER() {
	w, _ := metrics.WER([]string{"the cat sat on the mat"}, []string{"the cat sat on mat"})
	fmt.Printf("%.4f\n", w)
	// Output:
	// 0.1667
}
