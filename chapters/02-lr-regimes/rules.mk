# Chapter 2: how its programs are run, its figures drawn and its numbers filled in.
# (Included by the top-level Makefile; see the `figure` and `numbers` macros there.)
# Every run is its own target, so that `make -j` spreads them over the cores.
CH02 := chapters/02-lr-regimes
D02 := $(BUILD)/ch02

# The setting shared by every run: plain SGD, batch 64, 1000 steps, on a seeded split
# of the first 6000 training images (5000 train, 1000 validation); the loss is logged
# every step (so divergence is caught at the step it happens) and the validation loss
# evaluated every 10 steps; the target is a validation loss of 0.6.
C02 := --steps 1000 --batch-size 64 --train-size 5000 --val-size 1000 --log-every 1 --eval-every 10 --target 0.6
LOGREG02 := --dims 784-10
MLP02 := --dims 784-64-10

# 2.2 Three learning rates per model: too low, just right, too high.
$(D02)/logreg.tsv $(D02)/logreg-sum.tsv $(D02)/numbers-logreg.tsv &: $(BIN)/ch02-regimes $(CH02)/rules.mk
	$< $(C02) $(LOGREG02) --lr 0.005,0.1,1.5 --sharpness 20 --tag logreg --out $(D02)/logreg.tsv \
	   --summary $(D02)/logreg-sum.tsv --numbers $(D02)/numbers-logreg.tsv > /dev/null
$(D02)/mlp.tsv $(D02)/mlp-sum.tsv $(D02)/numbers-mlp.tsv &: $(BIN)/ch02-regimes $(CH02)/rules.mk
	$< $(C02) $(MLP02) --lr 0.005,0.2,3 --tag mlp --out $(D02)/mlp.tsv \
	   --summary $(D02)/mlp-sum.tsv --numbers $(D02)/numbers-mlp.tsv > /dev/null
# 2.3 Logistic regression at 0.5, above 2/L at the start: the curvature where it ends.
$(D02)/numbers-edge.tsv: $(BIN)/ch02-regimes $(CH02)/rules.mk
	$< $(C02) $(LOGREG02) --lr 0.5 --sharpness 20 --tag edge --numbers $@ > /dev/null

# 2.4 Steps to the target against the learning rate: 16 log-spaced rates from 0.01
# to 10 (five per decade), three seeds per model, one target per model and seed.
SWEEP02 := --sweep 0.01,10,16
SEEDS02 := 0 1 2
STEPS02 := $(foreach m,logreg mlp,$(foreach s,$(SEEDS02),$(D02)/sweep/$(m)-s$(s).tsv))
$(D02)/sweep/logreg-s%.tsv: $(BIN)/ch02-regimes $(CH02)/rules.mk
	$< $(C02) $(LOGREG02) $(SWEEP02) --seed $* --summary $@ > /dev/null
$(D02)/sweep/mlp-s%.tsv: $(BIN)/ch02-regimes $(CH02)/rules.mk
	$< $(C02) $(MLP02) $(SWEEP02) --seed $* --summary $@ > /dev/null
$(D02)/steps-logreg.tsv $(D02)/numbers-steps-logreg.tsv &: $(BIN)/ch02-steps $(filter $(D02)/sweep/logreg-%,$(STEPS02))
	$< --tag steps_logreg --out $(D02)/steps-logreg.tsv --numbers $(D02)/numbers-steps-logreg.tsv $(filter $(D02)/sweep/logreg-%,$(STEPS02)) > /dev/null
$(D02)/steps-mlp.tsv $(D02)/numbers-steps-mlp.tsv &: $(BIN)/ch02-steps $(filter $(D02)/sweep/mlp-%,$(STEPS02))
	$< --tag steps_mlp --out $(D02)/steps-mlp.tsv --numbers $(D02)/numbers-steps-mlp.tsv $(filter $(D02)/sweep/mlp-%,$(STEPS02)) > /dev/null

RUNS += $(D02)/logreg.tsv $(D02)/mlp.tsv $(D02)/numbers-edge.tsv $(STEPS02) $(D02)/steps-logreg.tsv $(D02)/steps-mlp.tsv

$(eval $(call figure,ch02-curves,$(CH02)/curves.gp,$(D02)/logreg.tsv $(D02)/logreg-sum.tsv $(D02)/mlp.tsv $(D02)/mlp-sum.tsv,$(D02)))
$(eval $(call figure,ch02-steps,$(CH02)/steps.gp,$(STEPS02) $(D02)/steps-logreg.tsv $(D02)/steps-mlp.tsv \
  $(D02)/numbers-steps-logreg.tsv $(D02)/numbers-logreg.tsv,$(D02)))
$(eval $(call numbers,$(CH02),$(D02)/numbers-logreg.tsv $(D02)/numbers-mlp.tsv $(D02)/numbers-edge.tsv \
  $(D02)/numbers-steps-logreg.tsv $(D02)/numbers-steps-mlp.tsv))
