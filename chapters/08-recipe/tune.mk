# Chapter 8, part 'tune' (see rules.mk): lrtune (tools/lrtune.c) applied to a problem no
# earlier chapter tuned -- the small GPT of lib/gpt.h at width 16 (Chapter 6 used 32 and
# 64) on the fortunes, 256 updates of batch 8, AdamW with its chapter-6 settings -- and
# the same task swept in full: every quarter decade from 1e-4 to 1, the same seeds
# SEED+0 .. SEED+2. Outputs under $(D08)/tune-*, figures ch08-tune-*.
# Each lrtune target starts from empty sweep tables (rm first): lrtune resumes the
# tables it finds, which must not keep rows of an older build. The full sweep runs as
# two shards (two targets, so that make -j2 uses both cores) and the merge step (the
# same command without --shard), as a reader with two machines would.
TUNE08 := $(BIN)/lrtune
TUNEM08 := --model gpt:layers=2:heads=4:width=16:context=32 --steps 256 --batch-size 8 \
           --optim adamw:weight_decay=0.1:betas=0.9/0.95 --sched cosine \
           --seed $(call seed,0) --seeds 3 --workers 1 --quiet
TUNEFULL08 := $(TUNEM08) --grid 1e-4:1:4 --key-prefix tune_full --dir $(D08)/tune-full

# The recipe: sanity checks, range test, the short sweep, the recommendation.
$(D08)/tune-recipe/recommend.tsv $(D08)/tune-recipe/summary.tsv $(D08)/tune-recipe/range.tsv &: $(TUNE08) $(CH08)/tune.mk
	@rm -rf $(D08)/tune-recipe && mkdir -p $(D08)/tune-recipe
	$< $(TUNEM08) --key-prefix tune_recipe --dir $(D08)/tune-recipe > /dev/null
# The full sweep: two shards, then the merge step.
$(D08)/tune-full/sweep-shard-%-of-2.tsv: $(TUNE08) $(CH08)/tune.mk
	@mkdir -p $(D08)/tune-full && rm -f $@ $(D08)/tune-full/sweep.tsv
	$< $(TUNEFULL08) --shard $*/2 > /dev/null
$(D08)/tune-full/recommend.tsv $(D08)/tune-full/summary.tsv $(D08)/tune-full/sweep.tsv &: $(TUNE08) $(D08)/tune-full/sweep-shard-0-of-2.tsv $(D08)/tune-full/sweep-shard-1-of-2.tsv
	rm -f $(D08)/tune-full/sweep.tsv
	$< $(TUNEFULL08) > /dev/null
# The comparison: the numbers the text quotes and the lrs the figures mark (no training).
$(D08)/numbers-tune.tsv $(D08)/tune-marks.tsv &: $(BIN)/ch08-tune-compare $(D08)/tune-recipe/recommend.tsv $(D08)/tune-full/recommend.tsv
	$< --recipe $(D08)/tune-recipe --full $(D08)/tune-full --numbers $(D08)/numbers-tune.tsv \
	  --marks $(D08)/tune-marks.tsv > /dev/null

RUNS += $(D08)/tune-recipe/recommend.tsv $(D08)/tune-full/recommend.tsv $(D08)/numbers-tune.tsv
N08 += $(D08)/numbers-tune.tsv

$(eval $(call figure,ch08-tune-sweep,$(CH08)/tune-sweep.gp,$(D08)/tune-full/summary.tsv $(D08)/tune-full/sweep.tsv $(D08)/tune-recipe/summary.tsv $(D08)/tune-marks.tsv,$(D08)))
$(eval $(call figure,ch08-tune-range,$(CH08)/tune-range.gp,$(D08)/tune-recipe/range.tsv $(D08)/tune-marks.tsv,$(D08)))
