// Package summarize is the headline-generation experiment: a pointer-generator
// network (See et al. 2017, "Get To The Point"), or plain additive attention,
// trained on the Gigaword sample's article-headline pairs and scored with ROUGE
// against a lead baseline. The defaults are those of the published runs
// (results/summarize).
//
// From Go:
//
//	cfg := summarize.DefaultConfig()
//	cfg.MaxSteps = 100
//	sum, err := summarize.Run(ctx, cfg, os.Stderr)
//	m, err := summarize.Load(sum.Dir)       // or the run directory
//	heads, err := m.Summarize(articles, m.Options())
package summarize
