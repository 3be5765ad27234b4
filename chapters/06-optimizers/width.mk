# Chapter 6, part 'width' (see rules.mk): the best lr against width in SP and muP (6.5),
# Adam + L2 against AdamW over lr x weight decay (6.6), parameter groups (6.7).
# Every run is on Fashion-MNIST averaged to 7x7 pixels (--pool 4), from the seeds
# SEED+0 .. SEED+4; each job is its own target so that make -j spreads them.

# 6.5: MLP 49-H-10, Adam, constant lr 2^-9 .. 2^-2, batch 64, 100 steps; loss = mean of the last 25.
WIDTH_W06 := --widths 64,128,256,512,1024,2048 --lrs 0.001953125,0.00390625,0.0078125,0.015625,0.03125,0.0625,0.125,0.25 \
       --steps 100 --tail 25 --batch-size 64 --pool 4 --base-width 64 --seed $(call seed,0) --seeds 5
$(D06)/width-sp.tsv: $(BIN)/ch06-width $(CH06)/width.mk
	$< $(WIDTH_W06) --param sp --out $@ > /dev/null
$(D06)/width-mup.tsv: $(BIN)/ch06-width $(CH06)/width.mk
	$< $(WIDTH_W06) --param mup --out $@ > /dev/null
$(D06)/width-curves.tsv $(D06)/numbers-width.tsv &: $(BIN)/ch06-width $(D06)/width-sp.tsv $(D06)/width-mup.tsv
	$< --from $(D06)/width-sp.tsv,$(D06)/width-mup.tsv --curves $(D06)/width-curves.tsv --numbers $(D06)/numbers-width.tsv

# 6.6: MLP 49-64-10 on 256 training images, batch 64, 400 steps (100 epochs), judged on
# 5000 held-out training images.
WIDTH_D06 := --lrs 0.0003,0.001,0.003,0.01,0.03 --wds 0,0.0001,0.001,0.01,0.1,1,10 --hidden 64 --pool 4 \
      --train-n 256 --steps 400 --batch-size 64 --seed $(call seed,0) --seeds 5
$(D06)/width-decay-adam.tsv: $(BIN)/ch06-decay $(CH06)/width.mk
	$< $(WIDTH_D06) --optims adam --out $@ > /dev/null
$(D06)/width-decay-adamw.tsv: $(BIN)/ch06-decay $(CH06)/width.mk
	$< $(WIDTH_D06) --optims adamw --out $@ > /dev/null
$(D06)/width-decay-grid.tsv $(D06)/numbers-decay.tsv &: $(BIN)/ch06-decay $(D06)/width-decay-adam.tsv $(D06)/width-decay-adamw.tsv
	$< --from $(D06)/width-decay-adam.tsv,$(D06)/width-decay-adamw.tsv --grid $(D06)/width-decay-grid.tsv \
	   --numbers $(D06)/numbers-decay.tsv

# 6.7: the same model and data, AdamW lr 0.01 weight_decay 1, four arms of parameter groups.
$(D06)/width-groups.tsv $(D06)/numbers-groups.tsv &: $(BIN)/ch06-groups $(CH06)/width.mk
	$< --optim adamw:lr=0.01:weight_decay=1 --hidden 64 --pool 4 --train-n 256 --steps 400 --batch-size 64 \
	   --seed $(call seed,0) --seeds 5 --out $(D06)/width-groups.tsv --numbers $(D06)/numbers-groups.tsv > /dev/null

RUNS += $(D06)/width-sp.tsv $(D06)/width-mup.tsv $(D06)/width-curves.tsv \
        $(D06)/width-decay-adam.tsv $(D06)/width-decay-adamw.tsv $(D06)/width-decay-grid.tsv $(D06)/width-groups.tsv
N06 += $(D06)/numbers-width.tsv $(D06)/numbers-decay.tsv $(D06)/numbers-groups.tsv

$(eval $(call figure,ch06-width-lr,$(CH06)/width-lr.gp,$(D06)/width-curves.tsv,$(D06)))
$(eval $(call figure,ch06-decay-grid,$(CH06)/decay-grid.gp,$(D06)/width-decay-grid.tsv,$(D06)))
