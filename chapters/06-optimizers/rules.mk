# Chapter 6: how its programs are run, its figures drawn and its numbers filled in.
# (Included by the top-level Makefile; see the `figure` and `numbers` macros there.)
# The chapter has three parts, each in its own file: opt.mk (seven optimizers, momentum,
# scale invariance, the defaults table), width.mk (width and muP, AdamW against Adam + L2,
# parameter groups) and gpt.mk (a small GPT on text). Each adds its numbers tables to N06.
CH06 := chapters/06-optimizers
D06 := $(BUILD)/ch06
N06 :=
include $(CH06)/opt.mk $(CH06)/width.mk $(CH06)/gpt.mk
$(eval $(call numbers,$(CH06),$(N06)))
