# Chapter 5: how its programs are run, its figures drawn and its numbers filled in.
# (Included by the top-level Makefile; see the `figure` and `numbers` macros there.)
# Each training job is its own target, so that `make -j` spreads them over the cores.
CH05 := chapters/05-warmup
D05 := $(BUILD)/ch05

# Adam at 50 times its default lr on a 784-256-256-10 MLP, 300 steps (0.64 epoch), from
# seeds SEED+0 .. SEED+4 (the same seeds for every warmup length: paired runs).
W05 := --dims 784-256-256-10 --optim adam:lr=0.05 --batch-size 128 --steps 300
S05 := --seed $(call seed,0) --seeds 5

# With and without warmup: loss curves and one summary row per run.
$(D05)/seeds-w0.tsv $(D05)/curves-w0.tsv &: $(BIN)/ch05-warmup
	$< $(W05) $(S05) --warmup 0 --summary $(D05)/seeds-w0.tsv --curves $(D05)/curves-w0.tsv > /dev/null
$(D05)/seeds-w100.tsv $(D05)/curves-w100.tsv &: $(BIN)/ch05-warmup
	$< $(W05) $(S05) --warmup 100 --summary $(D05)/seeds-w100.tsv --curves $(D05)/curves-w100.tsv > /dev/null
# The warmup-length sweep, same seeds (0 and 100 come from the runs above).
$(D05)/sweep-a.tsv: $(BIN)/ch05-warmup
	$< $(W05) $(S05) --warmup 1,3,10 --summary $@ > /dev/null
$(D05)/sweep-b.tsv: $(BIN)/ch05-warmup
	$< $(W05) $(S05) --warmup 30,300 --summary $@ > /dev/null
# For comparison: Adam's default lr, no warmup, same model and steps.
$(D05)/ref.tsv: $(BIN)/ch05-warmup
	$< $(W05) $(S05) --optim adam:lr=0.001 --warmup 0 --summary $@ > /dev/null
# The numbers the text quotes, from the summaries (no training).
$(D05)/numbers-seeds.tsv: $(BIN)/ch05-warmup $(D05)/seeds-w0.tsv $(D05)/seeds-w100.tsv
	$< $(W05) --from $(D05)/seeds-w0.tsv,$(D05)/seeds-w100.tsv --tag seeds --numbers $@
$(D05)/numbers-sweep.tsv: $(BIN)/ch05-warmup $(D05)/seeds-w0.tsv $(D05)/seeds-w100.tsv $(D05)/sweep-a.tsv $(D05)/sweep-b.tsv
	$< $(W05) --from $(D05)/seeds-w0.tsv,$(D05)/seeds-w100.tsv,$(D05)/sweep-a.tsv,$(D05)/sweep-b.tsv \
	   --tag sweep --numbers $@
$(D05)/numbers-ref.tsv: $(BIN)/ch05-warmup $(D05)/ref.tsv
	$< $(W05) --optim adam:lr=0.001 --from $(D05)/ref.tsv --tag ref --numbers $@

# Adam's update after a stretch of zero gradients: larger than its first (no data, no seed).
$(D05)/sparse.tsv $(D05)/numbers-sparse.tsv &: $(BIN)/ch05-sparse
	$< --optim adam:lr=0.001 --out $(D05)/sparse.tsv --numbers $(D05)/numbers-sparse.tsv > /dev/null
# Adam's first steps: the size of every coordinate's update, at Adam's default lr.
$(D05)/steps.tsv $(D05)/hist.tsv $(D05)/numbers-adamsteps.tsv &: $(BIN)/ch05-adamsteps
	$< --dims 784-256-256-10 --optim adam:lr=0.001 --seed $(call seed,0) --steps 500 --hist-steps 1,10,100,500 --out $(D05)/steps.tsv \
	   --hist $(D05)/hist.tsv --numbers $(D05)/numbers-adamsteps.tsv > /dev/null
# The noise of v_hat at the initial weights, for three beta2.
$(D05)/vnoise.tsv $(D05)/numbers-vnoise.tsv &: $(BIN)/ch05-vnoise
	$< --dims 784-256-256-10 --beta2 0.9,0.99,0.999 --seed $(call seed,0) --steps 500 --out $(D05)/vnoise.tsv \
	   --numbers $(D05)/numbers-vnoise.tsv > /dev/null
# The linear scaling rule: SGD + momentum, batch 128 k at lr 0.05 k, with and without
# warmup, 5 seeds.
$(D05)/scaling.tsv $(D05)/numbers-scaling.tsv &: $(BIN)/ch05-scaling
	$< --dims 784-64-10 --optim sgd:lr=0.05:momentum=0.9 --batch-size 128 --k 1,4,16 \
	   --warmup-epochs 0,1 --epochs 3 $(S05) --out $(D05)/scaling.tsv --numbers $(D05)/numbers-scaling.tsv > /dev/null

RUNS += $(D05)/seeds-w0.tsv $(D05)/seeds-w100.tsv $(D05)/sweep-a.tsv $(D05)/sweep-b.tsv $(D05)/ref.tsv \
        $(D05)/numbers-seeds.tsv $(D05)/numbers-sweep.tsv $(D05)/numbers-ref.tsv \
        $(D05)/steps.tsv $(D05)/vnoise.tsv $(D05)/scaling.tsv $(D05)/sparse.tsv

$(eval $(call figure,ch05-updates,$(CH05)/updates.gp,$(D05)/steps.tsv $(D05)/sparse.tsv,$(D05)))
$(eval $(call figure,ch05-update-hist,$(CH05)/hist.gp,$(D05)/hist.tsv,$(D05)))
$(eval $(call figure,ch05-vnoise,$(CH05)/vnoise.gp,$(D05)/vnoise.tsv,$(D05)))
$(eval $(call figure,ch05-curves,$(CH05)/curves.gp,$(D05)/curves-w0.tsv $(D05)/curves-w100.tsv,$(D05)))
$(eval $(call figure,ch05-sweep,$(CH05)/sweep.gp,$(D05)/seeds-w0.tsv $(D05)/seeds-w100.tsv $(D05)/sweep-a.tsv $(D05)/sweep-b.tsv $(D05)/ref.tsv,$(D05)))
$(eval $(call figure,ch05-scaling,$(CH05)/scaling.gp,$(D05)/scaling.tsv,$(D05)))
$(eval $(call numbers,$(CH05),$(D05)/numbers-seeds.tsv $(D05)/numbers-sweep.tsv $(D05)/numbers-ref.tsv \
  $(D05)/numbers-adamsteps.tsv $(D05)/numbers-vnoise.tsv $(D05)/numbers-scaling.tsv $(D05)/numbers-sparse.tsv))
