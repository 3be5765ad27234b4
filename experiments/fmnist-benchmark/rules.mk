# experiments/fmnist-benchmark: Fashion-MNIST's own benchmark rows (Xiao, Rasul & Vollgraf
# 2017, arXiv:1708.07747, Table 3): scikit-learn's MLPClassifier and LogisticRegression,
# redone with this library. See README.md. One target per row (so that make -j spreads
# them), 5 seeds each (the paper averages 5 shuffles).
EFMB := experiments/fmnist-benchmark
RFMB := $(EXPDIR)/fmnist-benchmark/results
QFMB := $(EQUICK)/fmnist-benchmark
SFMB := --seed $(call seed,0) --seeds 5
# MLPClassifier's defaults (adam, lr 1e-3, batch 200, alpha 1e-4, tol 1e-4 and the stopping
# rule of scikit-learn 0.19), but at most 30 epochs instead of max_iter = 200 (the budget).
MFMB := --optim adam:lr=0.001:betas=0.9/0.999:eps=1e-8 --batch-size 200 --alpha 0.0001 --tol 0.0001 --stop 1 --epochs 30
# LogisticRegression's objective (one-vs-rest, l2, C), minimised by Adam at lr 1e-2 with a
# cosine decay to 0 over 20 epochs (6000 updates of 200 rows) instead of liblinear.
LFMB := --logreg 1 --optim adam:lr=0.01:betas=0.9/0.999:eps=1e-8 --sched cosine:T=6000 --batch-size 200 --stop 0 --epochs 20
FMBROWS := mlp-relu-100 mlp-tanh-100 mlp-relu-10 logreg-C1-l2 logreg-C100-l2
AFMB_mlp-relu-100 := $(MFMB) --hidden 100 --act relu
AFMB_mlp-tanh-100 := $(MFMB) --hidden 100 --act tanh
AFMB_mlp-relu-10 := $(MFMB) --hidden 10 --act relu
AFMB_logreg-C1-l2 := $(LFMB) --C 1
AFMB_logreg-C100-l2 := $(LFMB) --C 100
define fmb_row
$(RFMB)/runs-$(1).tsv $(RFMB)/curves-$(1).tsv &: $(BIN)/exp-fmnist-bench $(EFMB)/rules.mk
	$$< --row $(1) $(AFMB_$(1)) $(SFMB) --summary $(RFMB)/runs-$(1).tsv --curves $(RFMB)/curves-$(1).tsv > /dev/null
endef
$(foreach r,$(FMBROWS),$(eval $(call fmb_row,$(r))))
RUNSFMB := $(foreach r,$(FMBROWS),$(RFMB)/runs-$(r).tsv)
CURVESFMB := $(foreach r,$(FMBROWS),$(RFMB)/curves-$(r).tsv)
COMMAFMB := ,
EMPTYFMB :=
SPACEFMB := $(EMPTYFMB) $(EMPTYFMB)
$(RFMB)/numbers.tsv: $(BIN)/exp-fmnist-bench $(RUNSFMB)
	$< --from $(subst $(SPACEFMB),$(COMMAFMB),$(strip $(RUNSFMB))) --numbers $@
EXP_RUNS += $(RUNSFMB) $(CURVESFMB) $(RFMB)/numbers.tsv
# The largest gap's row once more, one seed, with scikit-learn's max_iter = 200 epochs
# and its stopping rule: what the 30-epoch cap changes.
$(RFMB)/long-mlp-relu-100.tsv $(RFMB)/long-curves-mlp-relu-100.tsv &: $(BIN)/exp-fmnist-bench $(EFMB)/rules.mk
	$< --row mlp-relu-100 $(AFMB_mlp-relu-100) --epochs 200 --seed $(call seed,0) --seeds 1 \
	  --summary $(RFMB)/long-mlp-relu-100.tsv --curves $(RFMB)/long-curves-mlp-relu-100.tsv > /dev/null
$(RFMB)/numbers-long.tsv: $(BIN)/exp-fmnist-bench $(RFMB)/long-mlp-relu-100.tsv
	$< --from $(RFMB)/long-mlp-relu-100.tsv --key-prefix fmblong --numbers $@
EXP_RUNS += $(RFMB)/long-mlp-relu-100.tsv $(RFMB)/long-curves-mlp-relu-100.tsv $(RFMB)/numbers-long.tsv
$(eval $(call numbers,$(EFMB),$(RFMB)/numbers.tsv $(RFMB)/numbers-long.tsv))
$(eval $(call figure,exp-fmnist-benchmark-curves,$(EFMB)/fmnist-curves.gp,$(CURVESFMB),$(RFMB)))

# Quick mode (make test): the same code on the first 2000 training images, 2 epochs, 2 seeds.
QAFMB := --n-train 2000 --epochs 2 --seed $(call seed,0) --seeds 2
$(QFMB)/runs-mlp-relu-10.tsv $(QFMB)/curves-mlp-relu-10.tsv &: $(BIN)/exp-fmnist-bench
	$< --row mlp-relu-10 $(MFMB) --hidden 10 $(QAFMB) --summary $(QFMB)/runs-mlp-relu-10.tsv --curves $(QFMB)/curves-mlp-relu-10.tsv > /dev/null
$(QFMB)/runs-logreg-C1-l2.tsv: $(BIN)/exp-fmnist-bench
	$< --row logreg-C1-l2 $(LFMB) --C 1 $(QAFMB) --summary $@ > /dev/null
$(QFMB)/numbers.tsv: $(BIN)/exp-fmnist-bench $(QFMB)/runs-mlp-relu-10.tsv $(QFMB)/runs-logreg-C1-l2.tsv
	$< --from $(QFMB)/runs-mlp-relu-10.tsv,$(QFMB)/runs-logreg-C1-l2.tsv --numbers $@
EXP_QUICK += $(QFMB)/runs-mlp-relu-10.tsv $(QFMB)/curves-mlp-relu-10.tsv $(QFMB)/runs-logreg-C1-l2.tsv $(QFMB)/numbers.tsv
