# Chapter 6, part 'opt' (see rules.mk). Append this part's runs to RUNS and its numbers tables to N06.
# §6.1-6.4: seven optimizers on one problem, momentum's effective lr and stability limit,
# the loss scale, the library defaults. Every training run: an MLP 784-64-10 on the first
# 5000 images of a fixed split of Fashion-MNIST's training set, batch 64, 2 epochs (158
# steps), validated on 2000 held-out images (Chapter 3's sweep setting), seeds SEED+0..4.
OPT06 := $(BIN)/ch06-optimizers
S06 := --seed $(call seed,0) --seeds 5

# 6.1 Each optimizer over 8 lrs at half-decade steps, placed around its basin (the grids
# reach a diverging or clearly worse lr on both sides; the summary checks the basin does
# not touch an end). PyTorch's defaults for everything but lr (AdamW: weight_decay 0.01).
OPTSPEC06_sgd := sgd
OPTSPEC06_momentum := sgd:momentum=0.9
OPTSPEC06_nesterov := sgd:momentum=0.9:nesterov=1
OPTSPEC06_adam := adam
OPTSPEC06_adamw := adamw
OPTSPEC06_rmsprop := rmsprop
OPTSPEC06_adagrad := adagrad
OPTLR06_sgd := 0.00316,0.01,0.0316,0.1,0.316,1,3.16,10
OPTLR06_momentum := 0.001,0.00316,0.01,0.0316,0.1,0.316,1,3.16
OPTLR06_nesterov := $(OPTLR06_momentum)
OPTLR06_adam := 0.0001,0.000316,0.001,0.00316,0.01,0.0316,0.1,0.316
OPTLR06_adamw := $(OPTLR06_adam)
OPTLR06_rmsprop := 0.0000316,0.0001,0.000316,0.001,0.00316,0.01,0.0316,0.1
OPTLR06_adagrad := 0.000316,0.001,0.00316,0.01,0.0316,0.1,0.316,1
OPTNAMES06 := sgd momentum nesterov adam adamw rmsprop adagrad
$(D06)/opt-runs-%.tsv: $(OPT06) $(CH06)/opt.mk
	$< --optim '$(OPTSPEC06_$*)' --name $* --lr $(OPTLR06_$*) $(S06) --out $@

# 6.3 The loss multiplied by 100: SGD over its grid divided by 100, Adam over its own.
OPTLR06_scale_sgd := 0.0000316,0.0001,0.000316,0.001,0.00316,0.01,0.0316
OPTLR06_scale_adam := 0.0001,0.000316,0.001,0.00316,0.01,0.0316,0.1
$(D06)/opt-scale-%.tsv: $(OPT06) $(CH06)/opt.mk
	$< --optim '$(OPTSPEC06_$*)' --name $* --lr $(OPTLR06_scale_$*) --loss-scale 100 $(S06) --out $@

OPTRUNS06 := $(foreach o,$(OPTNAMES06),$(D06)/opt-runs-$(o).tsv) $(D06)/opt-scale-sgd.tsv $(D06)/opt-scale-adam.tsv
OPTCOMMA06 := ,
OPTEMPTY06 :=
OPTSPACE06 := $(OPTEMPTY06) $(OPTEMPTY06)
# 6.1, 6.3, 6.4: medians, best lrs, basins, the shift, the defaults' distances (no training)
$(D06)/opt-curves.tsv $(D06)/numbers-opt.tsv &: $(OPT06) $(OPTRUNS06) $(CH06)/opt-defaults.tsv
	$< --from $(subst $(OPTSPACE06),$(OPTCOMMA06),$(strip $(OPTRUNS06))) --defaults $(CH06)/opt-defaults.tsv \
	  --margin 0.1 --curves $(D06)/opt-curves.tsv --numbers $(D06)/numbers-opt.tsv

# 6.2 Momentum: SGD at 0.05 against momentum beta at 0.05 (1 - beta), 200 steps, 5 seeds;
# and the largest stable lr on Chapter 1's quadratic (no data, no seed).
$(D06)/opt-momentum.tsv $(D06)/numbers-opt-momentum.tsv &: $(BIN)/ch06-momentum $(CH06)/opt.mk
	$< --curves $(D06)/opt-momentum.tsv --eta 0.05 --betas 0.5,0.8,0.9 --steps 200 --after 10 $(S06) \
	  --numbers $(D06)/numbers-opt-momentum.tsv
$(D06)/opt-limits.tsv $(D06)/numbers-opt-limits.tsv &: $(BIN)/ch06-momentum $(CH06)/opt.mk
	$< --limits $(D06)/opt-limits.tsv --betas 0,0.5,0.9,0.99 --iters 20000 --numbers $(D06)/numbers-opt-limits.tsv

RUNS += $(OPTRUNS06) $(D06)/opt-curves.tsv $(D06)/opt-momentum.tsv $(D06)/opt-limits.tsv
N06 += $(D06)/numbers-opt.tsv $(D06)/numbers-opt-momentum.tsv $(D06)/numbers-opt-limits.tsv

$(eval $(call figure,ch06-opt-sweep,$(CH06)/opt-sweep.gp,$(D06)/opt-curves.tsv,$(D06)))
$(eval $(call figure,ch06-opt-momentum,$(CH06)/opt-momentum.gp,$(D06)/opt-momentum.tsv $(D06)/opt-limits.tsv,$(D06)))
$(eval $(call figure,ch06-opt-scale,$(CH06)/opt-scale.gp,$(D06)/opt-curves.tsv,$(D06)))
