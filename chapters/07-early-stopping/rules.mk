# Chapter 7: how its programs are run, its figures drawn and its numbers filled in.
# (Included by the top-level Makefile; see the `figure` and `numbers` macros there.)
# Every run is its own target, so that `make -j` spreads them over the cores. Each run
# starts from an empty checkpoint directory under $(D07)/ckpt/. Every seed comes from
# $(call seed,K), so `make SEED=n` shifts them all.
CH07 := chapters/07-early-stopping
D07 := $(BUILD)/ch07
FIT07 = rm -rf $(D07)/ckpt/$(1) && $(BIN)/ch07-fit --key $(1) --ckpt-dir $(D07)/ckpt/$(1) --out $(D07)/$(1).tsv \
  --numbers $(D07)/numbers-$(1).tsv --runs $(D07)/runs-$(1).tsv

# ---------------------------------------------------------------------------
# 7.2 Early stopping: 1000 training images, 5000 held out, 60 epochs (8 updates each),
# 5 seeds. "full" never fires (patience 1000) but restores the best weights at the end;
# the stopping rules of the text are replayed on its logs (--what-if). "esloss" and
# "esacc" run those rules for real on the first seed (the tests check that they are the
# full run cut short); "plateau" lowers the lr on plateaus, 5 seeds.
ES07 := --train-size 1000 --val-size 5000 --epochs 60 --log-every 8 --optim sgd:lr=0.1:momentum=0.9
ES07_full := --early patience=1000 --seed $(call seed,0) --seeds 5 --bands $(D07)/bands-full.tsv \
  --what-if 'monitor=val_loss:patience=5;monitor=val_acc:patience=10'
ES07_esloss := --early monitor=val_loss:patience=5 --seed $(call seed,0)
ES07_esacc := --early monitor=val_acc:patience=10 --seed $(call seed,0)
ES07_plateau := --early monitor=val_loss:patience=8 --sched plateau:patience=2:factor=0.2 --seed $(call seed,0) --seeds 5
define es07
$(D07)/$(1).tsv $(D07)/numbers-$(1).tsv $(D07)/runs-$(1).tsv $(D07)/$(1)-final.bin &: $(BIN)/ch07-fit $(CH07)/rules.mk
	$(call FIT07,$(1)) $(ES07) $(ES07_$(1)) --final $(D07)/$(1)-final.bin > /dev/null
endef
$(foreach r,full esloss esacc plateau,$(eval $(call es07,$(r))))
# The full run also writes the seed bands of Figure 7.1.
$(D07)/bands-full.tsv: $(D07)/full.tsv ;

# ---------------------------------------------------------------------------
# 7.3 Spikes: SGD with momentum 0.9 at lr 0.8 and 0.7 on a 784-256-256-10 MLP, 3 epochs,
# 5 seeds each, without and with back-off.
SP07 := --train-size 10000 --val-size 2000 --epochs 3 --dims 784-256-256-10 --log-every 5 \
  --seed $(call seed,0) --seeds 5
BO07 := --backoff factor=0.5:retries=5:window=20:threshold=3 --ckpt-every 20 --keep-last 5
SP07_plain08 := --optim sgd:lr=0.8:momentum=0.9
SP07_backoff08 := --optim sgd:lr=0.8:momentum=0.9 $(BO07)
SP07_plain07 := --optim sgd:lr=0.7:momentum=0.9
SP07_backoff07 := --optim sgd:lr=0.7:momentum=0.9 $(BO07)
SPIKES07 := plain08 backoff08 plain07 backoff07
define sp07
$(D07)/$(1).tsv $(D07)/numbers-$(1).tsv $(D07)/runs-$(1).tsv $(D07)/events-$(1).tsv &: $(BIN)/ch07-fit $(CH07)/rules.mk
	$(call FIT07,$(1)) $(SP07) $(SP07_$(1)) --events $(D07)/events-$(1).tsv > /dev/null
endef
$(foreach r,$(SPIKES07),$(eval $(call sp07,$(r))))

# ---------------------------------------------------------------------------
# 7.4 Resume: Adam with warmup and cosine, 120 updates straight; and the same run killed
# after update 45 (its newest checkpoint is from update 40), then resumed.
RS07 := --train-size 5000 --val-size 2000 --epochs 3 --log-every 5 --optim adam:lr=0.001 \
  --sched warmup:T=20,cosine:T=100 --ckpt-every 10 --keep-last 2 --seed $(call seed,0)
$(D07)/straight.tsv $(D07)/numbers-straight.tsv $(D07)/straight-final.bin &: $(BIN)/ch07-fit $(CH07)/rules.mk
	$(call FIT07,straight) $(RS07) --final $(D07)/straight-final.bin > /dev/null
# (the directory listing after the kill goes into the numbers too: the last 2 and best.bin)
$(D07)/killed.tsv $(D07)/numbers-killed.tsv &: $(BIN)/ch07-fit $(CH07)/rules.mk
	rm -rf $(D07)/ckpt/resumed && $(BIN)/ch07-fit --key killed --out $(D07)/killed.tsv \
	  --numbers $(D07)/numbers-killed.tsv $(RS07) --ckpt-dir $(D07)/ckpt/resumed --stop-at 45 > /dev/null
	printf 'killed_dir\t%s\n' "$$(ls $(D07)/ckpt/resumed | tr '\n' ' ' | sed 's/ $$//')" >> $(D07)/numbers-killed.tsv
$(D07)/resumed.tsv $(D07)/numbers-resumed.tsv $(D07)/resumed-final.bin &: $(BIN)/ch07-fit $(D07)/killed.tsv
	$(BIN)/ch07-fit --key resumed --out $(D07)/resumed.tsv --numbers $(D07)/numbers-resumed.tsv $(RS07) \
	  --ckpt-dir $(D07)/ckpt/resumed --resume --final $(D07)/resumed-final.bin > /dev/null

ES07_ALL := full esloss esacc plateau
RUNS07 := $(ES07_ALL:%=$(D07)/%.tsv) $(SPIKES07:%=$(D07)/%.tsv) $(D07)/straight.tsv $(D07)/killed.tsv $(D07)/resumed.tsv
RUNS += $(RUNS07)

$(eval $(call figure,ch07-early,$(CH07)/early.gp,$(D07)/full.tsv $(D07)/bands-full.tsv $(D07)/runs-full.tsv,$(D07)))
$(eval $(call figure,ch07-spike,$(CH07)/spike.gp,$(SPIKES07:%=$(D07)/%.tsv),$(D07)))
$(eval $(call figure,ch07-resume,$(CH07)/resume.gp,$(D07)/straight.tsv $(D07)/killed.tsv $(D07)/resumed.tsv,$(D07)))
$(eval $(call numbers,$(CH07),$(ES07_ALL:%=$(D07)/numbers-%.tsv) $(SPIKES07:%=$(D07)/numbers-%.tsv) \
  $(D07)/numbers-straight.tsv $(D07)/numbers-killed.tsv $(D07)/numbers-resumed.tsv))
