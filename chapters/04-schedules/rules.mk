# Chapter 4: how its programs are run, its figures drawn and its numbers filled in.
# (Included by the top-level Makefile; see the `figure` and `numbers` macros there.)
CH04 := chapters/04-schedules
D04 := $(BUILD)/ch04

# ---------------------------------------------------------------------------
# 4.1 The noise floor: constant lrs, the 1/t schedule and the inverse square root
# lr_t = 0.5 / sqrt(1 + t) on the noisy quadratic, with the floors measured against the
# closed form. The noise's seed is the seed base's 4th.
NOISE04 := --sched 'invsqrt:T0=1' --base 0.5 --seed $(call seed,4)
$(D04)/noise.tsv $(D04)/floors.tsv $(D04)/numbers-noise.tsv &: $(BIN)/ch04-noise $(CH04)/rules.mk
	$< $(NOISE04) --out $(D04)/noise.tsv --floors $(D04)/floors.tsv --numbers $(D04)/numbers-noise.tsv > /dev/null
# Interpolation: noise that vanishes at the minimum (S x zeta, no sigma): no floor.
$(D04)/interp.tsv $(D04)/numbers-interp.tsv &: $(BIN)/ch04-noise $(CH04)/rules.mk
	$< --sigma 0 --mult 0.5 --lr 0.1 --no-decay --steps 100 --chains 10000 --seed $(call seed,4) --key interp \
	  --out $(D04)/interp.tsv --numbers $(D04)/numbers-interp.tsv > /dev/null
# 4.2 A finite horizon: the practical schedules against 1/t over 2000 steps, on the
# curvature the 1/t schedule suits (lambda = 1) and on a 20 times flatter one.
HORIZON04 := --lr 0.5 --steps 2000 --every 10 --sched 'multistep:milestones=1000/1500;cosine:T=2000' --base 0.5 \
  --seed $(call seed,4)
$(D04)/horizon.tsv $(D04)/numbers-horizon.tsv &: $(BIN)/ch04-noise $(CH04)/rules.mk
	$< $(HORIZON04) --key horizon --out $(D04)/horizon.tsv --numbers $(D04)/numbers-horizon.tsv > /dev/null
$(D04)/flat.tsv $(D04)/numbers-flat.tsv &: $(BIN)/ch04-noise $(CH04)/rules.mk
	$< $(HORIZON04) --lambda 0.05 --key flat --out $(D04)/flat.tsv --numbers $(D04)/numbers-flat.tsv > /dev/null

# ---------------------------------------------------------------------------
# 4.3 Every schedule's curve, printed by lrsched over 1000 steps with base lr 1 (so the
# curves show lr / base). One table per spec: $(D04)/sched/NAME.tsv.
SCHED04_step := step:size=250:gamma=0.5
SCHED04_multistep := multistep:milestones=500/750:gamma=0.1
SCHED04_exp := exp:gamma=0.996
SCHED04_expstair := exp:gamma=0.67:every=100
SCHED04_linear := linear:T=1000
SCHED04_poly2 := poly:T=1000:power=2
SCHED04_poly05 := poly:T=1000:power=0.5
SCHED04_cosine := cosine:T=1000
SCHED04_cosinemin := cosine:T=1000:min=0.1
SCHED04_restarts := restarts:T0=250
SCHED04_restarts2 := restarts:T0=100:mult=2
SCHED04_triangular := cyclic:min=0.1:up=125
SCHED04_triangular2 := cyclic:min=0.1:up=125:mode=triangular2
SCHED04_exprange := cyclic:min=0.1:up=125:mode=exp_range:gamma=0.998
SCHED04_onecycle := onecycle:T=1000
SCHED04_onecyclelin := onecycle:T=1000:anneal=linear
SCHED04_onecycle3 := onecycle:T=1000:three_phase=1:anneal=linear
SCHED04_wsd := warmup:T=50,wsd:T=950:decay=0.2
SCHED04_wsdcos := warmup:T=50,wsd:T=950:decay=0.2:shape=cosine
SCHED04_wsdsqrt := warmup:T=50,wsd:T=950:decay=0.2:shape=sqrt
SCHED04_invsqrt := warmup:T=100,invsqrt:T0=100
SCHED04_warmcos := warmup:T=100,cosine:T=900
SCHED04_warmexp := warmup:T=100:kind=exp,cosine:T=900
SCHED04_warmconst := warmup:T=100:kind=constant,cosine:T=900
SCHEDS04_ALL := step multistep exp expstair linear poly2 poly05 cosine cosinemin restarts restarts2 \
  triangular triangular2 exprange onecycle onecyclelin onecycle3 wsd wsdcos wsdsqrt invsqrt warmcos warmexp warmconst
SCHED04_TSV := $(SCHEDS04_ALL:%=$(D04)/sched/%.tsv)

$(D04)/sched/%.tsv: $(BIN)/lrsched $(CH04)/rules.mk
	$< --sched '$(SCHED04_$*)' --lr 1 --steps 1001 --out $@
# The specs above as a numbers table, for the prose and the figures' legends.
# sched_NAME is the spec as written here, sched_canon_NAME the canonical form lrsched
# printed (every key, defaults included).
$(D04)/numbers-sched.tsv: $(CH04)/rules.mk $(SCHED04_TSV)
	@{ echo '# program: chapters/04-schedules/rules.mk (the SCHED04_ specs)'; printf 'key\tvalue\n'; \
	   $(foreach n,$(SCHEDS04_ALL),printf 'sched_%s\t%s\nsched_canon_%s\t%s\n' '$(n)' '$(SCHED04_$(n))' \
	     '$(n)' "$$(sed -n 's/^# sched: //p' $(D04)/sched/$(n).tsv)";) } > $@.tmp && mv $@.tmp $@

# ---------------------------------------------------------------------------
# 4.4 Fashion-MNIST: one arm per schedule (separate targets, so make -j runs them side by
# side); each arm runs every base lr of the grid with every seed. Then the summary picks
# each schedule's lr on validation accuracy and reports the test set at it.
SCHEDS04 := constant step exp cosine wsd onecycle
LRS04 := 0.0125,0.025,0.05,0.1,0.2
TRAIN04 := --lrs $(LRS04) --seed $(call seed,0) --seeds 5
RUNS04 := $(SCHEDS04:%=$(D04)/runs/%.tsv)

$(D04)/runs/%.tsv: $(BIN)/ch04-train $(CH04)/rules.mk
	@mkdir -p $(@D)
	$< --sched $* $(TRAIN04) --out $@ > /dev/null
$(D04)/summary.tsv $(D04)/curves.tsv $(D04)/numbers-train.tsv &: $(BIN)/ch04-summary $(RUNS04)
	$< --out $(D04)/summary.tsv --curves $(D04)/curves.tsv --numbers $(D04)/numbers-train.tsv $(RUNS04) > /dev/null

RUNS += $(D04)/noise.tsv $(D04)/interp.tsv $(D04)/horizon.tsv $(D04)/flat.tsv $(SCHED04_TSV) $(D04)/numbers-sched.tsv $(D04)/summary.tsv

$(eval $(call figure,ch04-noise-floor,$(CH04)/noise-floor.gp,$(D04)/noise.tsv,$(D04)))
$(eval $(call figure,ch04-noise-horizon,$(CH04)/noise-horizon.gp,$(D04)/horizon.tsv $(D04)/flat.tsv,$(D04)))
$(foreach fig,decay cycles onecycle wsd,$(eval $(call figure,ch04-sched-$(fig),$(CH04)/sched-$(fig).gp,\
  $(SCHED04_TSV) $(D04)/numbers-sched.tsv,$(D04))))
$(eval $(call figure,ch04-fmnist,$(CH04)/fmnist.gp,$(D04)/curves.tsv,$(D04)))
$(eval $(call numbers,$(CH04),$(D04)/numbers-noise.tsv $(D04)/numbers-interp.tsv $(D04)/numbers-horizon.tsv $(D04)/numbers-flat.tsv \
  $(D04)/numbers-sched.tsv $(D04)/numbers-train.tsv))
