# experiments/cohen-eos: how its runs are made, its figures drawn and its numbers filled
# in (included by the top-level Makefile; see its block "Experiments").
# Plain full-batch GD is Chapter 3's program (ch03-sharpness --experiment eos) at a
# larger size and a longer run; the momentum runs are exp-eos-momentum (the same model,
# the same initial weights per seed, the same sharpness measurement); exp-eos-summary
# reads each and writes the committed results (a copy of the runs for the figures, and
# the numbers), each with the command that made it.
CE_DIR := experiments/cohen-eos
CE_OUT := $(EXPDIR)/cohen-eos/results
CE_WORK := $(BUILD)/exp-work/cohen-eos
CE_Q := $(EQUICK)/cohen-eos

# A tanh MLP 784-64-10, full batch of the first 1000 training images, 1500 steps; the
# sharpness every 20 steps by 10 power iterations; seeds SEED+0 .. SEED+2.
CE_RUN := --hidden 64 --n 1000 --steps 1500 --every 20 --iters 10 --eps 1e-2 --seed $(call seed,0) --seeds 3
# plain GD, cross-entropy
$(CE_WORK)/gd.tsv: $(BIN)/ch03-sharpness $(CE_DIR)/rules.mk
	@mkdir -p $(@D)
	$< --experiment eos $(CE_RUN) --loss xent --lr 0.1,0.2,0.3 --out $@ > /dev/null
# momentum 0.9, squared error: heavy ball (limit 2(1+beta)/lr = 3.8/lr) and Nesterov
# ((2+2beta)/(1+2beta)/lr); and heavy ball with cross-entropy, where the loss collapses
# before the sharpness gets to its limit
$(CE_WORK)/hb.tsv: $(BIN)/exp-eos-momentum $(CE_DIR)/rules.mk
	@mkdir -p $(@D)
	$< $(CE_RUN) --loss mse --momentum 0.9 --lr 0.2,0.3 --out $@ > /dev/null
$(CE_WORK)/nag.tsv: $(BIN)/exp-eos-momentum $(CE_DIR)/rules.mk
	@mkdir -p $(@D)
	$< $(CE_RUN) --loss mse --momentum 0.9 --nesterov 1 --lr 0.1 --out $@ > /dev/null
$(CE_WORK)/hbx.tsv: $(BIN)/exp-eos-momentum $(CE_DIR)/rules.mk
	@mkdir -p $(@D)
	$< $(CE_RUN) --loss xent --momentum 0.9 --lr 0.2 --out $@ > /dev/null
# the summary of each: in band = end sharpness within 10% of limit/lr (the mean of the
# measurements in the last 20% of the steps); reaching = 90% of limit/lr
CE_SUM_gd :=
CE_SUM_hb := --momentum 0.9
CE_SUM_nag := --momentum 0.9 --nesterov 1
CE_SUM_hbx := --momentum 0.9
$(CE_OUT)/trace-%.tsv $(CE_OUT)/numbers-%.tsv: $(BIN)/exp-eos-summary $(CE_WORK)/%.tsv
	@mkdir -p $(CE_OUT)
	$< --in $(CE_WORK)/$*.tsv $(CE_SUM_$*) --band 0.1 --tail 0.2 --reach 0.9 --prefix $*_ \
	  --out $(CE_OUT)/trace-$*.tsv --numbers $(CE_OUT)/numbers-$*.tsv > /dev/null
EXP_RUNS += $(CE_OUT)/trace-gd.tsv $(CE_OUT)/trace-hb.tsv $(CE_OUT)/trace-nag.tsv $(CE_OUT)/trace-hbx.tsv

# Quick mode (make test): 100 images, 8 hidden units, 60 steps, one seed.
CE_QRUN := --hidden 8 --loss xent --n 100 --steps 60 --every 10 --iters 5 --eps 1e-2 --seed $(call seed,0) --seeds 1
$(CE_Q)/gd.tsv: $(BIN)/ch03-sharpness $(CE_DIR)/rules.mk
	@mkdir -p $(@D)
	$< --experiment eos $(CE_QRUN) --lr 0.5 --out $@ > /dev/null
$(CE_Q)/gd0.tsv: $(BIN)/exp-eos-momentum $(CE_DIR)/rules.mk
	@mkdir -p $(@D)
	$< $(CE_QRUN) --momentum 0 --lr 0.5 --out $@ > /dev/null
$(CE_Q)/hb.tsv: $(BIN)/exp-eos-momentum $(CE_DIR)/rules.mk
	@mkdir -p $(@D)
	$< $(CE_QRUN) --momentum 0.9 --lr 0.5 --out $@ > /dev/null
$(CE_Q)/nag.tsv: $(BIN)/exp-eos-momentum $(CE_DIR)/rules.mk
	@mkdir -p $(@D)
	$< $(CE_QRUN) --momentum 0.9 --nesterov 1 --lr 0.5 --out $@ > /dev/null
$(CE_Q)/trace-%.tsv $(CE_Q)/numbers-%.tsv: $(BIN)/exp-eos-summary $(CE_Q)/%.tsv
	$< --in $(CE_Q)/$*.tsv $(CE_SUM_$*) --prefix $*_ --out $(CE_Q)/trace-$*.tsv --numbers $(CE_Q)/numbers-$*.tsv > /dev/null
EXP_QUICK += $(CE_Q)/trace-gd.tsv $(CE_Q)/trace-hb.tsv $(CE_Q)/trace-nag.tsv $(CE_Q)/gd0.tsv

$(eval $(call figure,exp-cohen-eos-gd,$(CE_DIR)/eos-gd.gp,$(CE_OUT)/trace-gd.tsv $(CE_OUT)/numbers-gd.tsv $(CE_DIR)/eos.gp,$(CE_OUT)))
$(eval $(call figure,exp-cohen-eos-momentum,$(CE_DIR)/eos-momentum.gp,$(CE_OUT)/trace-hb.tsv $(CE_OUT)/trace-nag.tsv \
  $(CE_OUT)/numbers-hb.tsv $(CE_OUT)/numbers-nag.tsv $(CE_DIR)/eos.gp,$(CE_OUT)))
$(eval $(call numbers,$(CE_DIR),$(CE_OUT)/numbers-gd.tsv $(CE_OUT)/numbers-hb.tsv $(CE_OUT)/numbers-nag.tsv \
  $(CE_OUT)/numbers-hbx.tsv))
# the runs read the unpacked Fashion-MNIST (only the summaries are in EXP_RUNS/EXP_QUICK)
$(foreach a,gd hb nag hbx,$(CE_WORK)/$(a).tsv) $(foreach a,gd gd0 hb nag,$(CE_Q)/$(a).tsv): | $(FMNIST_OK)
