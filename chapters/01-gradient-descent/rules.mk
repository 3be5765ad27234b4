# Chapter 1: how its programs are run, its figures drawn and its numbers filled in.
# (Included by the top-level Makefile; see the `figure` and `numbers` macros there.)
CH01 := chapters/01-gradient-descent
D01 := $(BUILD)/ch01

# The contour plot: three learning rates with the program's defaults.
$(D01)/traj.tsv $(D01)/contours.tsv $(D01)/numbers-quadratic.tsv &: $(BIN)/ch01-quadratic
	$< --out $(D01)/traj.tsv --contours $(D01)/contours.tsv --numbers $(D01)/numbers-quadratic.tsv
# Loss against step for five learning rates, run to the end (tol 0).
$(D01)/losses.tsv: $(BIN)/ch01-quadratic
	$< --lr 0.02,0.1,0.181818,0.199,0.201 --steps 150 --tol 0 --out $@ > /dev/null
# The measured rate across learning rates.
$(D01)/rates.tsv: $(BIN)/ch01-quadratic
	$< --sweep 0.002,0.24,120 --steps 200 --tol 0 --rates $@ > /dev/null
# The nonconvex example.
$(D01)/nc-traj.tsv $(D01)/nc-curve.tsv $(D01)/nc-minima.tsv $(D01)/numbers-nonconvex.tsv &: $(BIN)/ch01-nonconvex
	$< --out $(D01)/nc-traj.tsv --curve $(D01)/nc-curve.tsv --minima $(D01)/nc-minima.tsv \
	   --numbers $(D01)/numbers-nonconvex.tsv

RUNS += $(D01)/traj.tsv $(D01)/losses.tsv $(D01)/rates.tsv $(D01)/nc-traj.tsv

$(eval $(call figure,ch01-contour,$(CH01)/contour.gp,$(D01)/traj.tsv $(D01)/contours.tsv,$(D01)))
$(eval $(call figure,ch01-losses,$(CH01)/losses.gp,$(D01)/losses.tsv,$(D01)))
$(eval $(call figure,ch01-rate,$(CH01)/rate.gp,$(D01)/rates.tsv,$(D01)))
$(eval $(call figure,ch01-nonconvex,$(CH01)/nonconvex.gp,$(D01)/nc-traj.tsv $(D01)/nc-curve.tsv $(D01)/nc-minima.tsv,$(D01)))
$(eval $(call numbers,$(CH01),$(D01)/numbers-quadratic.tsv $(D01)/numbers-nonconvex.tsv))
