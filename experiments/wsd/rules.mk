# experiments/wsd: warmup-stable-decay against cosine on the small GPT of Chapter 6
# (Hagele et al. 2024; Hu et al. 2024), and the cooldown-length sweep. See README.md.
# One target per seed (so that make -j spreads them): each trains, for its seed, the
# cosine runs at every budget, and ONE stable run with its WSD cooldowns branched off.
EWSD := experiments/wsd
RWSD := $(EXPDIR)/wsd/results
QWSD := $(EQUICK)/wsd
# The model and data of Chapter 6 (gpt.mk): 2 layers, 4 heads, width 32, context 32,
# AdamW betas 0.9/0.95, weight decay 0.1 on the Linear weights; batch 16 windows; peak
# lr 3.16e-3 (the best of Chapter 6's grid); warmup 200 steps; budgets 1200, 2400, 4800
# steps (4800 x 16 x 32 bytes: about one pass over the training entries).
MWSD := --layers 2 --heads 4 --width 32 --context 32 --batch-size 16 --val-windows 256 --split-seed $(call seed,0) \
        --optim adamw:betas=0.9/0.95:weight_decay=0.1 --lr 0.00316 --warmup 200 --budgets 1200,2400,4800 \
        --frac 0.2 --sweep 0.05,0.1,0.2,0.4 --linear 1 --cos-min 0.1 --cos0 1 --eval-every 200
SEEDSWSD := 0 1 2
define wsd_seed
$(RWSD)/runs-$(1).tsv $(RWSD)/curves-$(1).tsv &: $(BIN)/exp-wsd-train $(EWSD)/rules.mk
	$$< $(MWSD) --seed $(call seed,$(1)) --summary $(RWSD)/runs-$(1).tsv --curves $(RWSD)/curves-$(1).tsv > /dev/null
endef
$(foreach s,$(SEEDSWSD),$(eval $(call wsd_seed,$(s))))
RUNSWSD := $(foreach s,$(SEEDSWSD),$(RWSD)/runs-$(s).tsv)
CURVESWSD := $(foreach s,$(SEEDSWSD),$(RWSD)/curves-$(s).tsv)
COMMAWSD := ,
EMPTYWSD :=
SPACEWSD := $(EMPTYWSD) $(EMPTYWSD)
$(RWSD)/numbers.tsv $(RWSD)/grid.tsv &: $(BIN)/exp-wsd-train $(RUNSWSD)
	$< $(MWSD) --from $(subst $(SPACEWSD),$(COMMAWSD),$(strip $(RUNSWSD))) --numbers $(RWSD)/numbers.tsv --grid $(RWSD)/grid.tsv
EXP_RUNS += $(RUNSWSD) $(CURVESWSD) $(RWSD)/numbers.tsv $(RWSD)/grid.tsv
# Is it the peak learning rate? Cosine and WSD (20 %) at the smallest budget only, at half,
# twice and four times the peak lr, the same seeds (one target per lr and seed).
LRSWSD := 0.00158 0.00632 0.0126
MLRWSD := $(filter-out --budgets 1200$(COMMAWSD)2400$(COMMAWSD)4800 --sweep 0.05$(COMMAWSD)0.1$(COMMAWSD)0.2$(COMMAWSD)0.4 --linear 1 --cos0 1 --lr 0.00316,$(MWSD)) \
          --budgets 1200 --sweep 0.2 --linear 0 --cos0 0
define wsd_lr
$(RWSD)/lr-$(1)-$(2).tsv: $(BIN)/exp-wsd-train $(EWSD)/rules.mk
	$$< $(MLRWSD) --lr $(1) --seed $(call seed,$(2)) --summary $$@ > /dev/null
endef
$(foreach l,$(LRSWSD),$(foreach s,$(SEEDSWSD),$(eval $(call wsd_lr,$(l),$(s)))))
define wsd_lr_numbers
$(RWSD)/numbers-lr-$(1).tsv: $(BIN)/exp-wsd-train $(foreach s,$(SEEDSWSD),$(RWSD)/lr-$(1)-$(s).tsv)
	$$< $(MLRWSD) --lr $(1) --from $$(subst $$(SPACEWSD),$$(COMMAWSD),$$(strip $$(filter %.tsv,$$^))) --key-prefix wsdlr$(2) --numbers $$@
EXP_RUNS += $(foreach s,$(SEEDSWSD),$(RWSD)/lr-$(1)-$(s).tsv) $(RWSD)/numbers-lr-$(1).tsv
endef
$(eval $(call wsd_lr_numbers,0.00158,lo))
$(eval $(call wsd_lr_numbers,0.00632,hi))
$(eval $(call wsd_lr_numbers,0.0126,top))
# The best peak was not reached at four times the peak: eight and sixteen times it, and
# between four and eight, where both were lowest, 4 sqrt(2) times (0.0179). Their numbers
# are exp-wsd-best's (below), over the whole grid.
$(foreach l,0.0179 0.0253 0.0506,$(foreach s,$(SEEDSWSD),$(eval $(call wsd_lr,$(l),$(s)))))
EXP_RUNS += $(foreach l,0.0179 0.0253 0.0506,$(foreach s,$(SEEDSWSD),$(RWSD)/lr-$(l)-$(s).tsv))
# Each schedule at its own best peak (exp-wsd-best: no training, reads the summaries and
# takes each table's peak lr from its "# optim:" line): the grid from half to sixteen times
# the main peak at 1200 steps (the main runs are the 1x), and at 2400 steps the main peak,
# the peak that was best for both at 1200 steps (four times the main one) and the next one
# above it (4 sqrt(2) times): what the CPU budget allowed.
LRGRIDWSD := $(RUNSWSD) $(foreach l,0.00158 0.00632 0.0126 0.0179 0.0253 0.0506,$(foreach s,$(SEEDSWSD),$(RWSD)/lr-$(l)-$(s).tsv))
$(RWSD)/numbers-best.tsv $(RWSD)/best.tsv &: $(BIN)/exp-wsd-best $(LRGRIDWSD)
	$< --budget 1200 --main-lr 0.00316 --from $(subst $(SPACEWSD),$(COMMAWSD),$(strip $(LRGRIDWSD))) \
	  --key-prefix wsdbest --numbers $(RWSD)/numbers-best.tsv --grid $(RWSD)/best.tsv
MLR2WSD := $(filter-out --budgets 1200,$(MLRWSD)) --budgets 2400
define wsd_lr2
$(RWSD)/lr2400-$(1)-$(2).tsv: $(BIN)/exp-wsd-train $(EWSD)/rules.mk
	$$< $(MLR2WSD) --lr $(1) --seed $(call seed,$(2)) --summary $$@ > /dev/null
endef
LRS2WSD := 0.0126 0.0179
$(foreach l,$(LRS2WSD),$(foreach s,$(SEEDSWSD),$(eval $(call wsd_lr2,$(l),$(s)))))
LRGRID2WSD := $(RUNSWSD) $(foreach l,$(LRS2WSD),$(foreach s,$(SEEDSWSD),$(RWSD)/lr2400-$(l)-$(s).tsv))
$(RWSD)/numbers-best2400.tsv: $(BIN)/exp-wsd-best $(LRGRID2WSD)
	$< --budget 2400 --main-lr 0.00316 --from $(subst $(SPACEWSD),$(COMMAWSD),$(strip $(LRGRID2WSD))) \
	  --key-prefix wsdbestb --numbers $@
EXP_RUNS += $(filter-out $(RUNSWSD),$(LRGRID2WSD)) $(RWSD)/numbers-best.tsv $(RWSD)/best.tsv \
  $(RWSD)/numbers-best2400.tsv
$(eval $(call numbers,$(EWSD),$(RWSD)/numbers.tsv $(RWSD)/numbers-lr-0.00158.tsv $(RWSD)/numbers-lr-0.00632.tsv \
  $(RWSD)/numbers-lr-0.0126.tsv \
  $(RWSD)/numbers-best.tsv $(RWSD)/numbers-best2400.tsv))
$(eval $(call figure,exp-wsd-curves,$(EWSD)/wsd-curves.gp,$(CURVESWSD),$(RWSD)))
$(eval $(call figure,exp-wsd-lr,$(EWSD)/wsd-lr.gp,$(RWSD)/best.tsv,$(RWSD)))
$(eval $(call figure,exp-wsd-sweep,$(EWSD)/wsd-sweep.gp,$(RWSD)/grid.tsv $(RUNSWSD),$(RWSD)))

# Quick mode (make test): the same code at a tiny budget -- width 16, batch 4, budgets
# 50 and 100 steps, two seeds.
QMWSD := --layers 2 --heads 4 --width 16 --context 32 --batch-size 4 --val-windows 16 --split-seed $(call seed,0) \
         --lr 0.00316 --warmup 10 --budgets 50,100 --frac 0.2 --sweep 0.1,0.4 --eval-every 25
$(QWSD)/runs-0.tsv $(QWSD)/curves-0.tsv &: $(BIN)/exp-wsd-train
	$< $(QMWSD) --seed $(call seed,0) --summary $(QWSD)/runs-0.tsv --curves $(QWSD)/curves-0.tsv > /dev/null
$(QWSD)/runs-1.tsv: $(BIN)/exp-wsd-train
	$< $(QMWSD) --seed $(call seed,1) --summary $@ > /dev/null
$(QWSD)/numbers.tsv $(QWSD)/grid.tsv &: $(BIN)/exp-wsd-train $(QWSD)/runs-0.tsv $(QWSD)/runs-1.tsv
	$< $(QMWSD) --from $(QWSD)/runs-0.tsv,$(QWSD)/runs-1.tsv --numbers $(QWSD)/numbers.tsv --grid $(QWSD)/grid.tsv
EXP_QUICK += $(QWSD)/runs-0.tsv $(QWSD)/curves-0.tsv $(QWSD)/runs-1.tsv $(QWSD)/numbers.tsv $(QWSD)/grid.tsv
$(QWSD)/numbers-best.tsv $(QWSD)/best.tsv &: $(BIN)/exp-wsd-best $(QWSD)/runs-0.tsv $(QWSD)/runs-1.tsv
	$< --budget 50 --from $(QWSD)/runs-0.tsv,$(QWSD)/runs-1.tsv --numbers $(QWSD)/numbers-best.tsv --grid $(QWSD)/best.tsv
EXP_QUICK += $(QWSD)/numbers-best.tsv $(QWSD)/best.tsv
