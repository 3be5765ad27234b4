# experiments/adamw-decoupling: how its runs are made, its figure drawn and its numbers
# filled in (included by the top-level Makefile; see its block "Experiments").
# The training runs are Chapter 6's program (ch06-decay, section 6.6) on a larger grid and
# a longer run; exp-adamw-summary reads them and writes the committed results (a copy of
# the runs, the median grid, the numbers), each with the command that made it.
AD_DIR := experiments/adamw-decoupling
AD_OUT := $(EXPDIR)/adamw-decoupling/results
AD_WORK := $(BUILD)/exp-work/adamw-decoupling
AD_Q := $(EQUICK)/adamw-decoupling

# MLP 49-128-10 (ReLU) on Fashion-MNIST averaged to 7x7, 1024 training images, batch 64,
# 1600 steps (100 epochs), constant lr, judged on 5000 held-out training images;
# 6 lrs x 12 weight decays x 5 seeds (SEED+0 .. SEED+4) per optimizer.
AD_ARGS := --lrs 0.0001,0.0003,0.001,0.003,0.01,0.03 \
  --wds 0,0.0001,0.0003,0.001,0.003,0.01,0.03,0.1,0.3,1,3,10 --hidden 128 --pool 4 --train-n 1024 --steps 1600 \
  --batch-size 64 --val-n 5000 --seed $(call seed,0) --seeds 5
$(AD_WORK)/runs-%.tsv: $(BIN)/ch06-decay $(AD_DIR)/rules.mk
	@mkdir -p $(@D)
	$< $(AD_ARGS) --optims $* --out $@ > /dev/null
$(AD_OUT)/runs.tsv $(AD_OUT)/grid.tsv $(AD_OUT)/numbers.tsv &: $(BIN)/exp-adamw-summary $(AD_WORK)/runs-adam.tsv $(AD_WORK)/runs-adamw.tsv
	@mkdir -p $(AD_OUT)
	$< --from $(AD_WORK)/runs-adam.tsv,$(AD_WORK)/runs-adamw.tsv --runs $(AD_OUT)/runs.tsv --grid $(AD_OUT)/grid.tsv \
	  --numbers $(AD_OUT)/numbers.tsv > /dev/null
EXP_RUNS += $(AD_OUT)/runs.tsv

# Quick mode (make test): 2 lrs x 3 weight decays, 1 seed, 50 steps.
AD_QARGS := --lrs 0.001,0.01 --wds 0,0.01,1 --hidden 16 --pool 4 --train-n 256 --steps 50 --batch-size 64 --val-n 500 \
  --seed $(call seed,0) --seeds 1
$(AD_Q)/runs-%.tsv: $(BIN)/ch06-decay $(AD_DIR)/rules.mk
	@mkdir -p $(@D)
	$< $(AD_QARGS) --optims $* --out $@ > /dev/null
$(AD_Q)/runs.tsv $(AD_Q)/grid.tsv $(AD_Q)/numbers.tsv &: $(BIN)/exp-adamw-summary $(AD_Q)/runs-adam.tsv $(AD_Q)/runs-adamw.tsv
	$< --from $(AD_Q)/runs-adam.tsv,$(AD_Q)/runs-adamw.tsv --runs $(AD_Q)/runs.tsv --grid $(AD_Q)/grid.tsv \
	  --numbers $(AD_Q)/numbers.tsv > /dev/null
EXP_QUICK += $(AD_Q)/runs.tsv

$(eval $(call figure,exp-adamw-decoupling-grid,$(AD_DIR)/grid.gp,$(AD_OUT)/grid.tsv,$(AD_OUT)))
$(eval $(call numbers,$(AD_DIR),$(AD_OUT)/numbers.tsv))
# the runs read the unpacked Fashion-MNIST (only the summaries are in EXP_RUNS/EXP_QUICK)
$(AD_WORK)/runs-adam.tsv $(AD_WORK)/runs-adamw.tsv $(AD_Q)/runs-adam.tsv $(AD_Q)/runs-adamw.tsv: | $(FMNIST_OK)
