# Chapter 1: how its programs are run, its figures drawn and its numbers filled in.
# (Included by the top-level Makefile; see the `figure` and `numbers` macros there.)
# Everything here is deterministic (no seed, no BLAS): every build computes the same
# numbers. Each command is the one its figure's caption prints, with build/ as $(BUILD).
CH01 := chapters/01-gradient-descent
D01 := $(BUILD)/ch01

# Figure 1.1: the contraction factor across learning rates.
$(D01)/rates.tsv: $(BIN)/ch01-quadratic
	$< --sweep 0.002,0.24,120 --steps 200 --tol 0 --rates $@ > /dev/null
# Figure 1.2: three learning rates with the program's defaults; and the numbers.
$(D01)/traj.tsv $(D01)/contours.tsv $(D01)/numbers-quadratic.tsv &: $(BIN)/ch01-quadratic
	$< --out $(D01)/traj.tsv --contours $(D01)/contours.tsv --numbers $(D01)/numbers-quadratic.tsv > /dev/null
# Figure 1.3: loss against step for five learning rates, run to the end (tol 0).
$(D01)/losses.tsv: $(BIN)/ch01-quadratic
	$< --lr 0.02,0.1,0.181818,0.199,0.201 --steps 150 --tol 0 --out $@ > /dev/null
# Figure 1.4: the nonconvex example.
$(D01)/nc-traj.tsv $(D01)/nc-curve.tsv $(D01)/nc-minima.tsv $(D01)/numbers-nonconvex.tsv &: $(BIN)/ch01-nonconvex
	$< --out $(D01)/nc-traj.tsv --curve $(D01)/nc-curve.tsv --minima $(D01)/nc-minima.tsv \
	   --numbers $(D01)/numbers-nonconvex.tsv > /dev/null

RUNS += $(D01)/traj.tsv $(D01)/losses.tsv $(D01)/rates.tsv $(D01)/nc-traj.tsv

$(eval $(call figure,ch01-rate,$(CH01)/rate.gp,$(D01)/rates.tsv,$(D01)))
$(eval $(call figure,ch01-contour,$(CH01)/contour.gp,$(D01)/traj.tsv $(D01)/contours.tsv,$(D01)))
$(eval $(call figure,ch01-losses,$(CH01)/losses.gp,$(D01)/losses.tsv,$(D01)))
$(eval $(call figure,ch01-nonconvex,$(CH01)/nonconvex.gp,$(D01)/nc-traj.tsv $(D01)/nc-curve.tsv $(D01)/nc-minima.tsv,$(D01)))
$(eval $(call numbers,$(CH01),$(D01)/numbers-quadratic.tsv $(D01)/numbers-nonconvex.tsv))
