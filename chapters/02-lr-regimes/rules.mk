# Chapter 2: how its programs are run, its figures drawn and its numbers filled in.
# (Included by the top-level Makefile; see the `figure` and `numbers` macros there.)
# Every run is its own target, so that `make -j` spreads them over the cores.
CH02 := chapters/02-lr-regimes
D02 := $(BUILD)/ch02

# The setting shared by every run: plain SGD, batch 64, 1000 steps, on a split of the
# first 6000 training images (5000 train, 1000 validation) shuffled by the run's seed;
# the loss is logged every step (so divergence is caught at the step it happens); the
# target is a validation loss of 0.6. Every learning rate runs on five seeds, the
# seed base's first five: make SEED=n shifts them.
C02 := --steps 1000 --batch-size 64 --train-size 5000 --val-size 1000 --log-every 1 --target 0.6 \
       --seed $(call seed,0) --seeds 5
LOGREG02 := --dims 784-10
MLP02 := --dims 784-64-10

# 2.2 Three learning rates per model: too low, just right, too high (validation loss
# every 10 steps). Logistic regression also measures the sharpness (power iteration,
# at most 100 iterations, until the estimate changes by less than 0.1 %).
SHARP02 := --sharpness 100 --sharp-tol 1e-3
$(D02)/logreg.tsv $(D02)/logreg-sum.tsv $(D02)/numbers-logreg.tsv &: $(BIN)/ch02-regimes $(CH02)/rules.mk
	$< $(C02) --eval-every 10 $(LOGREG02) --lr 0.005,0.1,1.5 $(SHARP02) --tag logreg --out $(D02)/logreg.tsv \
	   --summary $(D02)/logreg-sum.tsv --numbers $(D02)/numbers-logreg.tsv > /dev/null
$(D02)/mlp.tsv $(D02)/mlp-sum.tsv $(D02)/numbers-mlp.tsv &: $(BIN)/ch02-regimes $(CH02)/rules.mk
	$< $(C02) --eval-every 10 $(MLP02) --lr 0.005,0.2,3 --tag mlp --out $(D02)/mlp.tsv \
	   --summary $(D02)/mlp-sum.tsv --numbers $(D02)/numbers-mlp.tsv > /dev/null
# 2.3 Logistic regression at 0.5, above 2/L at the start: the sharpness where it ends.
$(D02)/edge-sum.tsv $(D02)/numbers-edge.tsv &: $(BIN)/ch02-regimes $(CH02)/rules.mk
	$< $(C02) --eval-every 10 $(LOGREG02) --lr 0.5 $(SHARP02) --tag edge --summary $(D02)/edge-sum.tsv \
	   --numbers $(D02)/numbers-edge.tsv > /dev/null

# 2.4 Steps to the target against the learning rate: 13 log-spaced rates from 0.01
# to 10 (four per decade), five seeds each, validation loss every 20 steps.
SWEEP02 := --sweep 0.01,10,13 --eval-every 20
$(D02)/sweep-logreg.tsv: $(BIN)/ch02-regimes $(CH02)/rules.mk
	$< $(C02) $(LOGREG02) $(SWEEP02) --summary $@ > /dev/null
$(D02)/sweep-mlp.tsv: $(BIN)/ch02-regimes $(CH02)/rules.mk
	$< $(C02) $(MLP02) $(SWEEP02) --summary $@ > /dev/null
$(D02)/steps-%.tsv $(D02)/numbers-steps-%.tsv: $(BIN)/ch02-steps $(D02)/sweep-%.tsv
	$< --tag steps_$* --out $(D02)/steps-$*.tsv --numbers $(D02)/numbers-steps-$*.tsv $(D02)/sweep-$*.tsv > /dev/null

RUNS += $(D02)/logreg.tsv $(D02)/mlp.tsv $(D02)/numbers-edge.tsv $(D02)/sweep-logreg.tsv $(D02)/sweep-mlp.tsv \
        $(D02)/steps-logreg.tsv $(D02)/steps-mlp.tsv

$(eval $(call figure,ch02-curves,$(CH02)/curves.gp,$(D02)/logreg.tsv $(D02)/logreg-sum.tsv $(D02)/mlp.tsv $(D02)/mlp-sum.tsv,$(D02)))
$(eval $(call figure,ch02-steps,$(CH02)/steps.gp,$(D02)/sweep-logreg.tsv $(D02)/sweep-mlp.tsv $(D02)/steps-logreg.tsv \
  $(D02)/steps-mlp.tsv $(D02)/numbers-steps-logreg.tsv $(D02)/numbers-logreg.tsv,$(D02)))
$(eval $(call numbers,$(CH02),$(D02)/numbers-logreg.tsv $(D02)/numbers-mlp.tsv $(D02)/numbers-edge.tsv \
  $(D02)/numbers-steps-logreg.tsv $(D02)/numbers-steps-mlp.tsv))
