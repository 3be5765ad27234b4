# experiments/goyal-scaling: how its runs are made, its figures drawn and its numbers
# filled in (included by the top-level Makefile; see its block "Experiments").
GS_DIR := experiments/goyal-scaling
GS_OUT := $(EXPDIR)/goyal-scaling/results
GS_Q := $(EQUICK)/goyal-scaling

# Goyal et al.'s recipe: lr = 0.1 B / 256, SGD with Nesterov momentum 0.9 and weight decay
# 1e-4 (their Section 5.1), the same 9 epochs for every
# batch 64 .. 32768, lr / 10 at epochs 3, 6, 8 (their 30, 60, 80 of 90), with no warmup
# and, for B > 256, a 1-epoch gradual warmup from 0.1; seeds SEED+0 .. SEED+4.
GS_ARGS := --dims 784-64-10 --optim sgd:momentum=0.9:nesterov=1:weight_decay=1e-4 --base-lr 0.1 --base-batch 256 \
  --batches 64,128,256,512,1024,2048,4096,8192,16384,32768 --epochs 9 --decay-epochs 3,6,8 \
  --warmup-epochs 0,1 --seed $(call seed,0) --seeds 5
$(GS_OUT)/runs.tsv $(GS_OUT)/curves.tsv $(GS_OUT)/summary.tsv $(GS_OUT)/numbers.tsv &: $(BIN)/exp-goyal-scaling
	$< $(GS_ARGS) --out $(GS_OUT)/runs.tsv --curves $(GS_OUT)/curves.tsv --summary $(GS_OUT)/summary.tsv --numbers $(GS_OUT)/numbers.tsv > /dev/null

# The same rule from an 8 times lower lr, 0.0125 B / 256, with the warmup: does the
# break move to an 8 times larger batch (the same lr), or do the few steps of the largest
# batches stop it first?
GS8_ARGS := --dims 784-64-10 --optim sgd:momentum=0.9:nesterov=1:weight_decay=1e-4 --base-lr 0.0125 --base-batch 256 \
  --batches 64,128,256,512,1024,2048,4096,8192,16384,32768 --epochs 9 --decay-epochs 3,6,8 \
  --warmup-epochs 1 --seed $(call seed,0) --seeds 5 --tag gs8
$(GS_OUT)/runs-low.tsv $(GS_OUT)/summary-low.tsv $(GS_OUT)/numbers-low.tsv &: $(BIN)/exp-goyal-scaling
	$< $(GS8_ARGS) --out $(GS_OUT)/runs-low.tsv --summary $(GS_OUT)/summary-low.tsv --numbers $(GS_OUT)/numbers-low.tsv > /dev/null

EXP_RUNS += $(GS_OUT)/runs.tsv $(GS_OUT)/runs-low.tsv

# Quick mode (make test): two batches, two epochs, one seed.
$(GS_Q)/runs.tsv $(GS_Q)/curves.tsv $(GS_Q)/numbers.tsv &: $(BIN)/exp-goyal-scaling
	$< --dims 784-64-10 --optim sgd:momentum=0.9:nesterov=1:weight_decay=1e-4 --base-lr 0.1 --base-batch 512 --batches 512,8192 --epochs 2 \
	   --decay-epochs 1 --warmup-epochs 0,1 --seed $(call seed,0) --seeds 1 \
	   --out $(GS_Q)/runs.tsv --curves $(GS_Q)/curves.tsv --numbers $(GS_Q)/numbers.tsv > /dev/null
EXP_QUICK += $(GS_Q)/runs.tsv

$(eval $(call figure,exp-goyal-scaling-error,$(GS_DIR)/error.gp,$(GS_OUT)/summary.tsv $(GS_OUT)/summary-low.tsv,$(GS_OUT)))
$(eval $(call numbers,$(GS_DIR),$(GS_OUT)/numbers.tsv $(GS_OUT)/numbers-low.tsv))
$(eval $(call figure,exp-goyal-scaling-curves,$(GS_DIR)/curves.gp,$(GS_OUT)/curves.tsv,$(GS_OUT)))
