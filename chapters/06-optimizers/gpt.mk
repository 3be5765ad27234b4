# Chapter 6, part 'gpt' (see rules.mk). Append this part's runs to RUNS and its numbers tables to N06.
# §6.8: a small GPT (lib/gpt.h) on Debian's fortunes, byte-level (lib/text.h), trained
# with AdamW over peak learning rates, schedules and batch sizes. Every run: 2 layers,
# 4 heads, width 32, context 32, batch 8 (unless the arm says otherwise), weight decay
# 0.1 on the Linear weights, no gradient clipping; validation loss on 64 fixed windows
# of the held-out tenth of the entries. Seeds SEED+0 .. SEED+2 for every setting.
# Each (arm, lr) is its own target, so that make -j spreads them over the cores.
GPT06 := $(BIN)/ch06-gpt
GPTM06 := --layers 2 --heads 4 --width 32 --context 32 --val-windows 64 --split-seed $(call seed,0) \
          --seed $(call seed,0) --seeds 3
GPTW06 := adamw:weight_decay=0.1:betas=0.9/
# The arms: optimizer, schedule, batch, steps (256 steps of 8 windows of 32 = 65,536 bytes).
GPTA06_cos95 := --optim $(GPTW06)0.95 --sched warmup:T=24,cosine:T=232 --batch-size 8 --steps 256
GPTA06_cos999 := --optim $(GPTW06)0.999 --sched warmup:T=24,cosine:T=232 --batch-size 8 --steps 256
GPTA06_nowu95 := --optim $(GPTW06)0.95 --sched cosine:T=256 --batch-size 8 --steps 256
GPTA06_const95 := --optim $(GPTW06)0.95 --sched warmup:T=24,constant --batch-size 8 --steps 256
# the same bytes in four times the steps: 1024 steps of 2 windows
GPTA06_b2 := --optim $(GPTW06)0.95 --sched warmup:T=96,cosine:T=928 --batch-size 2 --steps 1024
# SGD with momentum 0.9 (no weight decay) at the two batch sizes, for the linear rule
GPTA06_sgd8 := --optim sgd:momentum=0.9 --sched warmup:T=24,cosine:T=232 --batch-size 8 --steps 256
GPTA06_sgd2 := --optim sgd:momentum=0.9 --sched warmup:T=96,cosine:T=928 --batch-size 2 --steps 1024
# Peak lrs of each arm, half a decade apart (quarter-decade steps around the main arm's
# best, and for batch 2, to resolve a factor of 2 against 4).
GPTL06_cos95 := 0.0001 0.000316 0.001 0.00178 0.00316 0.00562 0.01 0.0316 0.1 0.316
GPTL06_cos999 := 0.00316 0.01 0.0316
GPTL06_nowu95 := 0.01 0.0316 0.1 0.316
GPTL06_const95 := 0.00316
GPTL06_b2 := 0.001 0.00178 0.00316 0.00562 0.01
GPTL06_sgd8 := 0.1 0.178 0.316 0.562
GPTL06_sgd2 := 0.0316 0.0562 0.1 0.178
GPTARMS06 := cos95 cos999 nowu95 const95 b2 sgd8 sgd2
# Checkpoints for ch06-sample: too small, good, too large.
GPTSAVE06 := cos95-0.0001 cos95-0.00316 cos95-0.1

# $(call gpt_run06,ARM,LR): one target, 3 seeds, summary + curves (+ the checkpoint of
# the first seed, for the settings in GPTSAVE06).
gpt_save06 = $(if $(filter $(1)-$(2),$(GPTSAVE06)),$(D06)/gpt-model-$(1)-$(2).bin)
define gpt_run06
$(D06)/gpt-$(1)-$(2).tsv $(D06)/gpt-curves-$(1)-$(2).tsv $(call gpt_save06,$(1),$(2)) &: $(GPT06) $(CH06)/gpt.mk
	$$< $(GPTM06) $(GPTA06_$(1)) --arm $(1) --lr $(2) --summary $(D06)/gpt-$(1)-$(2).tsv \
	  --curves $(D06)/gpt-curves-$(1)-$(2).tsv \
	  $(if $(call gpt_save06,$(1),$(2)),--save $(call gpt_save06,$(1),$(2)) --save-lr $(2)) > /dev/null
GPTSUM06 += $(D06)/gpt-$(1)-$(2).tsv
endef
$(foreach a,$(GPTARMS06),$(foreach l,$(GPTL06_$(a)),$(eval $(call gpt_run06,$(a),$(l)))))

# Samples from the checkpoints, one numbers table each: the same prompt, temperature and
# sampling seed for every model.
GPTS06 := --tokens 240 --temperature 0.8 --seed $(call seed,0) --prompt 'The '
$(D06)/numbers-gpt-sample-%.tsv: $(BIN)/ch06-sample $(D06)/gpt-model-%.bin
	$< --model $(D06)/gpt-model-$*.bin $(GPTS06) --key gpt_sample_$(subst .,_,$(subst -,_,$*)) --numbers $@ > /dev/null
GPTSAMPLES06 := $(foreach s,$(GPTSAVE06),$(D06)/numbers-gpt-sample-$(s).tsv)

# The numbers the text quotes, from the summaries (no training).
GPTCOMMA06 := ,
GPTEMPTY06 :=
GPTSPACE06 := $(GPTEMPTY06) $(GPTEMPTY06)
$(D06)/numbers-gpt.tsv $(D06)/gpt-grid.tsv &: $(GPT06) $(GPTSUM06)
	$< $(GPTM06) $(GPTA06_cos95) --from $(subst $(GPTSPACE06),$(GPTCOMMA06),$(strip $(GPTSUM06))) \
	  --arms $(subst $(GPTSPACE06),$(GPTCOMMA06),$(strip $(GPTARMS06))) --numbers $(D06)/numbers-gpt.tsv \
	  --grid $(D06)/gpt-grid.tsv --pairs cos95:b2,sgd8:sgd2

RUNS += $(GPTSUM06) $(D06)/numbers-gpt.tsv $(GPTSAMPLES06)
N06 += $(D06)/numbers-gpt.tsv $(GPTSAMPLES06)

$(eval $(call figure,ch06-gpt-lr,$(CH06)/gpt-lr.gp,$(D06)/gpt-grid.tsv $(GPTSUM06),$(D06)))
$(eval $(call figure,ch06-gpt-warmup,$(CH06)/gpt-warmup.gp,$(D06)/gpt-curves-cos95-0.1.tsv $(D06)/gpt-curves-nowu95-0.1.tsv $(D06)/gpt-curves-cos95-0.316.tsv $(D06)/gpt-curves-nowu95-0.316.tsv,$(D06)))

# A longer run, for text a reader can recognise: a wider model (width 64) trained at peak
# lr 3.2e-3 (in the grid's basin) for 2000 steps of 16 windows of 32 bytes (1,024,000
# bytes: 16 times the bytes of the grid's runs), 3 seeds, one target each (so that make -j
# spreads them); its own numbers (keys gptlong_*) and a sample from the first seed's model
# at temperature 0.5, beside one from the grid's model at the same lr.
GPTLONG06 := --layers 2 --heads 4 --width 64 --context 32 --val-windows 64 --split-seed $(call seed,0) \
             --seeds 1 --optim $(GPTW06)0.95 --sched warmup:T=100,cosine:T=1900 \
             --batch-size 16 --steps 2000 --arm long --lr 0.00316
$(D06)/gpt-long-0.tsv $(D06)/gpt-model-long.bin &: $(GPT06) $(CH06)/gpt.mk
	$< $(GPTLONG06) --seed $(call seed,0) --summary $(D06)/gpt-long-0.tsv --save $(D06)/gpt-model-long.bin --save-lr 0.00316 > /dev/null
$(D06)/gpt-long-1.tsv: $(GPT06) $(CH06)/gpt.mk
	$< $(GPTLONG06) --seed $(call seed,1) --summary $@ > /dev/null
$(D06)/gpt-long-2.tsv: $(GPT06) $(CH06)/gpt.mk
	$< $(GPTLONG06) --seed $(call seed,2) --summary $@ > /dev/null
GPTLONGSUM06 := $(D06)/gpt-long-0.tsv $(D06)/gpt-long-1.tsv $(D06)/gpt-long-2.tsv
$(D06)/numbers-gpt-long.tsv: $(GPT06) $(GPTLONGSUM06)
	$< $(GPTLONG06) --seed $(call seed,0) --from $(subst $(GPTSPACE06),$(GPTCOMMA06),$(strip $(GPTLONGSUM06))) \
	  --arms long --key-prefix gptlong --numbers $@
GPTSAMPLE06 := --tokens 400 --temperature 0.5 --seed $(call seed,0) --prompt 'The '
$(D06)/numbers-gpt-long-sample.tsv: $(BIN)/ch06-sample $(D06)/gpt-model-long.bin
	$< --model $(D06)/gpt-model-long.bin $(GPTSAMPLE06) --key gptlong_sample --numbers $@ > /dev/null
$(D06)/numbers-gpt-short-sample.tsv: $(BIN)/ch06-sample $(D06)/gpt-model-cos95-0.00316.bin
	$< --model $(D06)/gpt-model-cos95-0.00316.bin $(GPTSAMPLE06) --key gptshort_sample --numbers $@ > /dev/null
RUNS += $(GPTLONGSUM06) $(D06)/numbers-gpt-long.tsv $(D06)/numbers-gpt-long-sample.tsv $(D06)/numbers-gpt-short-sample.tsv
N06 += $(D06)/numbers-gpt-long.tsv $(D06)/numbers-gpt-long-sample.tsv $(D06)/numbers-gpt-short-sample.tsv
