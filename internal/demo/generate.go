package demo

// Generate writes cfg's territory to w: the providers, then the citizens a
// block at a time — each block's households matched, then each citizen's
// registration and records — so no more than Block citizens are held at
// once.
func Generate(cfg Config, w Writer) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	t, err := buildTerritory(cfg.Seed, w)
	if err != nil {
		return err
	}
	for from := 0; from < cfg.Citizens; from += Block {
		block := make([]*citizen, 0, Block)
		for n := from; n < min(from+Block, cfg.Citizens); n++ {
			block = append(block, drawCitizen(cfg.Seed, n, cfg.End))
		}
		household(cfg.Seed, block)
		for _, c := range block {
			cw := &counter{Writer: w}
			if err := registration(cfg.Seed, c, cw); err != nil {
				return err
			}
			if err := records(cfg.Seed, cfg, t, c, w, cw.n); err != nil {
				return err
			}
		}
	}
	return nil
}
