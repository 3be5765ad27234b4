# Chapter 3: how its programs are run, its figures drawn and its numbers filled in.
# (Included by the top-level Makefile; see the `figure` and `numbers` macros there.)
# Every training run's seed comes from the seed base: $(call seed,K) is SEED + K, so
# `make SEED=n` shifts every seed of the chapter (five seeds per setting).
CH03 := chapters/03-choosing
D03 := $(BUILD)/ch03
SEEDS03 := $(call seed,0):$(call seed,4)

# ---------------------------------------------------------------------------
# 3.2 The sweep: 17 lrs from 1e-4 to 1 (4 per decade) x 3 optimizers x 2 schedules
# (constant, and cosine to zero over the run's 158 steps) x 5 seeds, an MLP 784-64-10
# trained for 2 epochs on 5000 images, validated on 2000 held-out ones. The book's sweep
# runner (tools/SWEEP.md) runs the 510 points on every core; --seeds A:B is the list of
# seeds A to B (the runner has no seed-base option: the list is shifted instead). The
# table is removed first: the runner resumes an existing table of the same grid, and
# refuses one of another grid. Its progress lines go to $(D03)/sweep.log.
SWEEP03 := --lr 1e-4:1:4 --optim 'sgd;sgd:momentum=0.9;adam' --sched 'constant;cosine:T=158' \
  --seeds $(SEEDS03) --model 784-64-10 --epochs 2 --batch-size 64 --train-subset 5000 --val 2000
$(D03)/sweep.tsv: $(BIN)/sweep $(CH03)/rules.mk
	@mkdir -p $(@D) && rm -f $@
	$< $(SWEEP03) --out $@ 2> $(D03)/sweep.log || { tail -n 3 $(D03)/sweep.log >&2; exit 1; }

# 3.3 fastai's lr_find on the same images and model: one run per optimizer (OPT03_x is
# the optimizer, named as in the sweep) over the five seeds: the logs (.tsv) and
# fastai's three suggestions per seed (.suggest); a pattern rule's two targets are made
# together.
OPT03_sgd := sgd
OPT03_momentum := sgd:momentum=0.9
OPT03_adam := adam
RT03 := $(foreach o,sgd momentum adam,$(D03)/rt/$(o).tsv)
$(D03)/rt/%.tsv $(D03)/rt/%.suggest: $(BIN)/ch03-rangetest $(CH03)/rules.mk
	@mkdir -p $(@D)
	$< --optim '$(OPT03_$*)' --seed $(call seed,0) --seeds 5 --out $(D03)/rt/$*.tsv --suggest $(D03)/rt/$*.suggest > /dev/null

COMMA03 := ,
EMPTY03 :=
SPACE03 := $(EMPTY03) $(EMPTY03)
$(D03)/curves.tsv $(D03)/numbers-sweep.tsv &: $(BIN)/ch03-summary $(D03)/sweep.tsv $(RT03:.tsv=.suggest)
	$< --sweep $(D03)/sweep.tsv --suggest $(subst $(SPACE03),$(COMMA03),$(strip $(RT03:.tsv=.suggest))) \
	  --score-sched cosine --curves $(D03)/curves.tsv --numbers $(D03)/numbers-sweep.tsv

# 3.4 Sharpness: the finite-difference HVP checked against the exact one (logistic
# regression); full-batch GD around 2/lambda_max on a quadratic loss (linear least
# squares, 1000 images) and on an MLP (500 images), heavy ball around 2(1+beta)/lambda_max
# on the quadratic, and the sharpness along full-batch GD at three lrs; five seeds each.
SHARP03 := --eps 1e-2 --seed $(call seed,0)
$(D03)/check.tsv $(D03)/numbers-check.tsv &: $(BIN)/ch03-sharpness $(CH03)/rules.mk
	$< --experiment check --hidden 0 --n 1000 $(SHARP03) --out $(D03)/check.tsv --numbers $(D03)/numbers-check.tsv > /dev/null
$(D03)/edge-lin.tsv $(D03)/numbers-edge-lin.tsv &: $(BIN)/ch03-sharpness $(CH03)/rules.mk
	$< --experiment edge --hidden 0 --loss mse --n 1000 --steps 200 --factors 0.5,0.99,1.01,1.1 $(SHARP03) --seeds 5 \
	  --prefix lin_ --out $(D03)/edge-lin.tsv --numbers $(D03)/numbers-edge-lin.tsv > /dev/null
# heavy ball: its loss first grows (up to ~18x at 0.99 of the limit) before it decays, so
# divergence is judged at 1e6 x the first loss here
$(D03)/edge-hb.tsv $(D03)/numbers-edge-hb.tsv &: $(BIN)/ch03-sharpness $(CH03)/rules.mk
	$< --experiment edge --hidden 0 --loss mse --n 1000 --steps 200 --momentum 0.9 --factors 0.6,0.99,1.01 \
	  --diverge 1e6 $(SHARP03) --seeds 5 --prefix hb_ --out $(D03)/edge-hb.tsv --numbers $(D03)/numbers-edge-hb.tsv > /dev/null
$(D03)/edge-mlp.tsv $(D03)/numbers-edge-mlp.tsv &: $(BIN)/ch03-sharpness $(CH03)/rules.mk
	$< --experiment edge --hidden 32 --loss xent --n 500 --steps 200 --factors 0.5,1.1,2,3 $(SHARP03) --seeds 5 \
	  --prefix mlp_ --out $(D03)/edge-mlp.tsv --numbers $(D03)/numbers-edge-mlp.tsv > /dev/null
$(D03)/eos.tsv $(D03)/numbers-eos.tsv &: $(BIN)/ch03-sharpness $(CH03)/rules.mk
	$< --experiment eos --hidden 32 --loss xent --n 500 --lr 0.1,0.2,0.3 --steps 500 --every 20 --iters 10 $(SHARP03) \
	  --seeds 5 --prefix eos_ --out $(D03)/eos.tsv --numbers $(D03)/numbers-eos.tsv > /dev/null

RUNS += $(D03)/sweep.tsv $(RT03) $(D03)/curves.tsv $(D03)/check.tsv $(D03)/edge-lin.tsv $(D03)/edge-hb.tsv \
  $(D03)/edge-mlp.tsv $(D03)/eos.tsv

$(eval $(call figure,ch03-sweep,$(CH03)/sweep.gp,$(D03)/curves.tsv,$(D03)))
$(eval $(call figure,ch03-rangetest,$(CH03)/rangetest.gp,$(RT03) $(RT03:.tsv=.suggest) $(D03)/numbers-sweep.tsv,$(D03)))
$(eval $(call figure,ch03-edge,$(CH03)/edge.gp,$(D03)/edge-lin.tsv $(D03)/edge-mlp.tsv,$(D03)))
$(eval $(call figure,ch03-eos,$(CH03)/eos.gp,$(D03)/eos.tsv $(D03)/numbers-eos.tsv,$(D03)))
$(eval $(call numbers,$(CH03),$(D03)/numbers-sweep.tsv $(D03)/numbers-check.tsv $(D03)/numbers-edge-lin.tsv \
  $(D03)/numbers-edge-hb.tsv $(D03)/numbers-edge-mlp.tsv $(D03)/numbers-eos.tsv))
