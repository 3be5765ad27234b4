# Chapter 8, part recipe: the sanity checks (8.1) and the symptom -> cause -> fix table
# (8.8), each row a run: the case's broken setting and its fix, from the same 5 seeds
# (paired), an MLP 784-64-10 on 5000 Fashion-MNIST training images (batch 64), 300 or 600
# steps. (Included by rules.mk; outputs under $(D08)/recipe-*.)
RECIPE08_CASES := nan stuck osc plateau crawl spikes
RECIPE08_S := --seed $(call seed,0) --seeds 5

# 8.1: loss at initialisation, overfitting one batch, the gradient check (and a planted bug each).
$(D08)/recipe-sanity.tsv $(D08)/recipe-numbers-sanity.tsv &: $(BIN)/ch08-sanity $(CH08)/recipe.mk
	$< $(RECIPE08_S) --out $(D08)/recipe-sanity.tsv --numbers $(D08)/recipe-numbers-sanity.tsv > /dev/null

# 8.8: one target per row of the table (make -j spreads them over the cores).
define recipe08
$(D08)/recipe-$(1)-curves.tsv $(D08)/recipe-$(1)-summary.tsv $(D08)/recipe-numbers-$(1).tsv &: $(BIN)/ch08-symptoms $(CH08)/recipe.mk
	$$< --case $(1) $(RECIPE08_S) --curves $(D08)/recipe-$(1)-curves.tsv --summary $(D08)/recipe-$(1)-summary.tsv \
	  --numbers $(D08)/recipe-numbers-$(1).tsv > /dev/null
endef
$(foreach c,$(RECIPE08_CASES),$(eval $(call recipe08,$(c))))

RUNS += $(D08)/recipe-sanity.tsv $(RECIPE08_CASES:%=$(D08)/recipe-%-summary.tsv)
N08 += $(D08)/recipe-numbers-sanity.tsv $(RECIPE08_CASES:%=$(D08)/recipe-numbers-%.tsv)

$(eval $(call figure,ch08-recipe-symptoms,$(CH08)/symptoms.gp,$(RECIPE08_CASES:%=$(D08)/recipe-%-curves.tsv),$(D08)))
$(eval $(call figure,ch08-recipe-ratio,$(CH08)/ratio.gp,$(D08)/recipe-crawl-curves.tsv $(D08)/recipe-plateau-curves.tsv $(D08)/recipe-stuck-curves.tsv,$(D08)))

# 8.5: clipping the gradient norm at 1 instead of fixing the rate (the fixed arm replaced):
# the late spikes at Adam's constant lr, and SGD with momentum at lr 10.
$(D08)/recipe-clip-spikes-summary.tsv $(D08)/recipe-numbers-clip-spikes.tsv &: $(BIN)/ch08-symptoms $(CH08)/recipe.mk
	$< --case spikes --key clipspikes --fixed-sched none --fixed-clip 1 $(RECIPE08_S) \
	  --summary $(D08)/recipe-clip-spikes-summary.tsv --numbers $(D08)/recipe-numbers-clip-spikes.tsv > /dev/null
$(D08)/recipe-clip-nan-summary.tsv $(D08)/recipe-numbers-clip-nan.tsv &: $(BIN)/ch08-symptoms $(CH08)/recipe.mk
	$< --case nan --key clipnan --fixed-optim sgd:lr=10:momentum=0.9 --fixed-clip 1 $(RECIPE08_S) \
	  --summary $(D08)/recipe-clip-nan-summary.tsv --numbers $(D08)/recipe-numbers-clip-nan.tsv > /dev/null
RUNS += $(D08)/recipe-clip-spikes-summary.tsv $(D08)/recipe-clip-nan-summary.tsv
N08 += $(D08)/recipe-numbers-clip-spikes.tsv $(D08)/recipe-numbers-clip-nan.tsv
