# experiments/super-convergence: how its runs are made, its figures drawn and its numbers
# filled in (included by the top-level Makefile; see its block "Experiments").
SC_DIR := experiments/super-convergence
SC_OUT := $(EXPDIR)/super-convergence/results
SC_Q := $(EQUICK)/super-convergence

# One cycle against a step schedule at a budget of 2 epochs (938 steps of batch 128) and
# the step schedule at 5 times that, each at the lrs 0.03 .. 1, SGD + momentum, MLP
# 784-128-10, seeds SEED+0 .. SEED+4.
SC_ARGS := --dims 784-128-10 --optim sgd:momentum=0.9 --batch-size 128 --epochs 2 --long 5 \
  --lrs 0.03,0.1,0.3,1 --eval-per-epoch 4 --seed $(call seed,0) --seeds 5
$(SC_OUT)/runs.tsv $(SC_OUT)/curves.tsv $(SC_OUT)/summary.tsv $(SC_OUT)/numbers.tsv &: $(BIN)/exp-sc-train
	$< $(SC_ARGS) --out $(SC_OUT)/runs.tsv --curves $(SC_OUT)/curves.tsv --summary $(SC_OUT)/summary.tsv --numbers $(SC_OUT)/numbers.tsv > /dev/null

EXP_RUNS += $(SC_OUT)/runs.tsv

# Quick mode (make test): a budget of 0.25 epoch, two lrs, one seed.
$(SC_Q)/runs.tsv $(SC_Q)/curves.tsv $(SC_Q)/numbers.tsv &: $(BIN)/exp-sc-train
	$< --dims 784-128-10 --optim sgd:momentum=0.9 --batch-size 128 --epochs 0.25 --long 2 --lrs 0.1,1 \
	   --eval-per-epoch 4 --seed $(call seed,0) --seeds 1 \
	   --out $(SC_Q)/runs.tsv --curves $(SC_Q)/curves.tsv --numbers $(SC_Q)/numbers.tsv > /dev/null
EXP_QUICK += $(SC_Q)/runs.tsv

$(eval $(call figure,exp-super-convergence-lr,$(SC_DIR)/lr.gp,$(SC_OUT)/summary.tsv,$(SC_OUT)))
$(eval $(call figure,exp-super-convergence-curves,$(SC_DIR)/curves.gp,$(SC_OUT)/curves.tsv $(SC_OUT)/summary.tsv,$(SC_OUT)))
$(eval $(call numbers,$(SC_DIR),$(SC_OUT)/numbers.tsv))
