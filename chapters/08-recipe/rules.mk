# Chapter 8: how its programs are run, its figures drawn and its numbers filled in.
# (Included by the top-level Makefile; see the `figure` and `numbers` macros there.)
# Two parts, each in its own file: recipe.mk (the procedure step by step, and the
# symptom -> cause -> fix table, each row a run) and tune.mk (lrtune applied to the
# capstone, against a full sweep). Each adds its numbers tables to N08.
CH08 := chapters/08-recipe
D08 := $(BUILD)/ch08
N08 :=
include $(wildcard $(CH08)/recipe.mk $(CH08)/tune.mk)
$(if $(N08),$(eval $(call numbers,$(CH08),$(N08))))
