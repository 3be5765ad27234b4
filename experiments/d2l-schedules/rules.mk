# experiments/d2l-schedules: how its runs are made, its figures drawn and its numbers
# filled in (included by the top-level Makefile; see its block "Experiments").
D2L_DIR := experiments/d2l-schedules
D2L_OUT := $(EXPDIR)/d2l-schedules/results
D2L_Q := $(EQUICK)/d2l-schedules

# d2l 12.11's six schedules (two processes of three), LeNet (ReLU, max pooling), batch
# 256, SGD, 30 epochs on a fixed subset of 6000 training images (the budget: see the
# README), seeds SEED+0 .. SEED+2.
D2L_ARGS := --train-n 6000 --epochs 30 --seed $(call seed,0) --seeds 3
$(D2L_OUT)/runs-a.tsv $(D2L_OUT)/curves-a.tsv &: $(BIN)/exp-d2l-train
	$< $(D2L_ARGS) --scheds constant,sqrt,multistep --out $(D2L_OUT)/runs-a.tsv --curves $(D2L_OUT)/curves-a.tsv 2> /dev/null
$(D2L_OUT)/runs-b.tsv $(D2L_OUT)/curves-b.tsv &: $(BIN)/exp-d2l-train
	$< $(D2L_ARGS) --scheds multistep-d2l,cosine,warmup-cosine --out $(D2L_OUT)/runs-b.tsv --curves $(D2L_OUT)/curves-b.tsv 2> /dev/null
$(D2L_OUT)/summary.tsv $(D2L_OUT)/numbers.tsv &: $(BIN)/exp-d2l-train $(D2L_OUT)/runs-a.tsv $(D2L_OUT)/runs-b.tsv
	$< $(D2L_ARGS) --runs $(D2L_OUT)/runs-a.tsv,$(D2L_OUT)/runs-b.tsv --summary $(D2L_OUT)/summary.tsv --numbers $(D2L_OUT)/numbers.tsv

EXP_RUNS += $(D2L_OUT)/summary.tsv

# Quick mode (make test): every schedule, 2 epochs of 512 images, 1000 test images, one seed.
$(D2L_Q)/runs.tsv $(D2L_Q)/curves.tsv $(D2L_Q)/summary.tsv $(D2L_Q)/numbers.tsv &: $(BIN)/exp-d2l-train
	$< --train-n 512 --epochs 2 --test-n 1000 --seed $(call seed,0) --seeds 1 \
	   --out $(D2L_Q)/runs.tsv --curves $(D2L_Q)/curves.tsv 2> /dev/null
	$< --train-n 512 --epochs 2 --runs $(D2L_Q)/runs.tsv --summary $(D2L_Q)/summary.tsv --numbers $(D2L_Q)/numbers.tsv
EXP_QUICK += $(D2L_Q)/runs.tsv

$(eval $(call figure,exp-d2l-schedules-lr,$(D2L_DIR)/lr.gp,$(D2L_OUT)/curves-a.tsv $(D2L_OUT)/curves-b.tsv,$(D2L_OUT)))
$(eval $(call figure,exp-d2l-schedules-loss,$(D2L_DIR)/loss.gp,$(D2L_OUT)/curves-a.tsv $(D2L_OUT)/curves-b.tsv,$(D2L_OUT)))
$(eval $(call numbers,$(D2L_DIR),$(D2L_OUT)/numbers.tsv))
