# The learning-rate book. `make` builds the library and every program, runs every
# chapter program and regenerates every figure and every number in the prose;
# `make test` runs the whole test suite. `make help` lists the targets.

# SEED shifts every seed of every chapter program (rules.mk write $(call seed,K) for the
# K-th seed, which is SEED + K). Another seed base is another build: `make SEED=7` builds
# into build-seed7/ and `make test SEED=7` checks the book's claims on its runs.
SEED ?= 0
BUILD ?= $(if $(filter 0,$(SEED)),build,build-seed$(SEED))
seed = $(shell expr $(SEED) + $(1))
# Only the default build (seed base 0, directory build/) writes the committed figures
# and the numbers in the chapters' text. Any other build (another seed base, another
# arithmetic: OPENBLAS_CORETYPE=Sandybridge make test BUILD=build-sandy) writes its
# figures under $(BUILD)/figures/ and its copy of the book under $(BUILD)/book/, and
# never touches a committed file. PUBLISH=1 or PUBLISH= overrides the choice.
PUBLISH ?= $(if $(and $(filter build,$(BUILD)),$(filter 0,$(SEED))),1,)
FIGDIR := $(if $(PUBLISH),figures,$(BUILD)/figures)
BOOKDIR := $(if $(PUBLISH),.,$(BUILD)/book)
# The library and the programs do not depend on the seed base or the BLAS kernel (both
# are read at run time), so another build may reuse a build's programs:
# `make test SEED=1000 PROGBUILD=build` compiles nothing that build/ has (CI does this).
PROGBUILD ?= $(BUILD)
BIN := $(PROGBUILD)/bin
CC ?= cc
# No -ffast-math or -Ofast: this is a numerics book.
CFLAGS ?= -O2 -g
# `override`: `make CFLAGS=-O1` on the command line replaces the -O2 -g above but keeps
# these (the warnings are errors in every build).
override CFLAGS += -std=c11 -Wall -Wextra -Werror -D_DEFAULT_SOURCE -iquote lib -MMD -MP
LDLIBS := -lopenblas -lz -lm
GNUPLOT ?= gnuplot
export OPENBLAS_NUM_THREADS ?= 1
# Chapter programs are independent runs: use every core (override with make -j1).
NPROC := $(shell nproc 2>/dev/null || echo 2)
MAKEFLAGS += -j$(NPROC)

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

# ---------------------------------------------------------------------------
# Debian packages: installed on first use (tools/deps.sh; sudo when not root).
DEPS_STAMP := $(BUILD)/.deps-ok
$(DEPS_STAMP): tools/deps.sh
	@sh tools/deps.sh
	@mkdir -p $(@D) && touch $@

# ---------------------------------------------------------------------------
# Fashion-MNIST, unpacked once. The Debian package ships gzipped IDX files; every program
# can read them, but a hundred training runs would each spend 0.2 CPU-seconds on gunzip.
# So the build keeps one plain copy and points the programs it runs at it (the same
# bytes; $GD_FASHION_MNIST, when you set it, names the source instead).
FMNIST_SRC := $(or $(GD_FASHION_MNIST),/usr/share/datasets/fashion-mnist)
FMNIST := $(abspath $(BUILD))/data/fashion-mnist
FMNIST_OK := $(BUILD)/data/.fashion-mnist-ok
$(FMNIST_OK): | $(DEPS_STAMP)
	@mkdir -p $(FMNIST)
	@for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do \
	  if [ -f $(FMNIST_SRC)/$$f.gz ]; then gunzip -c $(FMNIST_SRC)/$$f.gz > $(FMNIST)/$$f.tmp; \
	  elif [ -f $(FMNIST_SRC)/$$f ]; then cp $(FMNIST_SRC)/$$f $(FMNIST)/$$f.tmp; \
	  else echo "make: Fashion-MNIST: no $(FMNIST_SRC)/$$f.gz (is dataset-fashion-mnist installed?)" >&2; exit 1; fi \
	  && mv $(FMNIST)/$$f.tmp $(FMNIST)/$$f || exit 1; done
	@touch $@
export GD_FASHION_MNIST := $(FMNIST)

# ---------------------------------------------------------------------------
# The library: lib/*.c -> $(PROGBUILD)/libgd.a
LIB_SRC := $(sort $(wildcard lib/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(PROGBUILD)/%.o)
LIB := $(PROGBUILD)/libgd.a

$(PROGBUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# Speed only, the same bits: the optimizers' update loops vectorise only if sqrtf need
# not set errno (gcc's default -fmath-errno keeps a libm call for negative arguments,
# which returns the same NaN as the instruction; nothing reads errno). Nothing else
# changes: no other rounding, no FMA contraction.
$(PROGBUILD)/lib/optim.o: override CFLAGS += -fno-math-errno

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# ---------------------------------------------------------------------------
# Programs: chapters/NN-slug/NAME.c -> $(BIN)/chNN-NAME; tools/NAME.c -> $(BIN)/NAME;
# bench/NAME.c -> $(BIN)/bench-NAME. Each is one file linked with the library.
CHAPTERS := $(sort $(wildcard chapters/[0-9][0-9]-*))
ch_num = $(firstword $(subst -, ,$(notdir $(1))))

define program
$(1): $(2) $(LIB) | $(DEPS_STAMP) $(FMNIST_OK)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -o $$@ $$< $(LIB) $$(LDLIBS) $(3)
PROGRAMS += $(1)
endef

$(foreach ch,$(CHAPTERS),$(foreach src,$(wildcard $(ch)/*.c),\
  $(eval $(call program,$(BIN)/ch$(call ch_num,$(ch))-$(basename $(notdir $(src))),$(src)))))
$(foreach src,$(wildcard tools/*.c),\
  $(eval $(call program,$(BIN)/$(basename $(notdir $(src))),$(src))))
$(foreach src,$(wildcard bench/*.c),\
  $(eval $(call program,$(BIN)/bench-$(basename $(notdir $(src))),$(src))))

MDSYNC := $(BIN)/mdsync

# ---------------------------------------------------------------------------
# Figures: $(call figure,NAME,SCRIPT,DATA...) makes figures/NAME.svg and .png from a
# gnuplot script, the shared style and the data files; only when one of them changed.
# The script sees `data` (the chapter's build directory) and writes to `outfile`.
define figure
$(FIGDIR)/$(1).svg $(FIGDIR)/$(1).png &: $(2) figures/style.gp $(3) | $(DEPS_STAMP)
	@echo "gnuplot $(2) -> $(FIGDIR)/$(1).{svg,png}"
	@mkdir -p $(FIGDIR) && for fmt in svg png; do \
	  tmp=$(FIGDIR)/$(1).$$$$fmt.tmp.$$$$$$$$; \
	  $$(GNUPLOT) -e "fmt='$$$$fmt'; outfile='$$$$tmp'; data='$(4)'" \
	    figures/style.gp $(2) && mv $$$$tmp $(FIGDIR)/$(1).$$$$fmt \
	  || { rm -f $$$$tmp; exit 1; }; done
FIGURES += $(FIGDIR)/$(1).svg $(FIGDIR)/$(1).png
endef

# Numbers in the prose: $(call numbers,CHAPTER_DIR,NUMBERS_TSV...) rewrites the marked
# regions of the chapter's README.md from the tables its programs wrote (in a build
# that does not publish, a copy under $(BUILD)/book/). mdsync stamps the README with
# the arithmetic (BLAS kernel) and seed base that wrote its numbers. The list of
# numbers tables goes to $(BUILD)/fresh/, for the test that the text is fresh.
define numbers
$(BUILD)/$(notdir $(1)).readme-ok: $(1)/README.md $(2) $(MDSYNC) $(wildcard $(1)/*.c) $(LIB_SRC)
	@mkdir -p $(BOOKDIR)/$(1)
	$(if $(PUBLISH),,cp $(1)/README.md $(BOOKDIR)/$(1)/README.md.tmp && mv $(BOOKDIR)/$(1)/README.md.tmp $(BOOKDIR)/$(1)/README.md)
	$(MDSYNC) --write --seed-base $(SEED) $(BOOKDIR)/$(1)/README.md $(2)
	@touch $$@
$(BUILD)/fresh/$(notdir $(1)).list: $(MAKEFILE_LIST)
	@mkdir -p $$(@D) && echo '$(1)/README.md $(2)' > $$@
READMES += $(BUILD)/$(notdir $(1)).readme-ok
FRESH += $(BUILD)/fresh/$(notdir $(1)).list
NUMBERS += $(2)
endef

# Each chapter says how its programs are run and its figures made.
include $(wildcard chapters/*/rules.mk)
# Every run reads the unpacked Fashion-MNIST copy (made first: every program has it as
# an order-only prerequisite, see `program`, so a run, which needs its program, cannot
# start before it, even when the program was built by another build, PROGBUILD).
$(RUNS): | $(FMNIST_OK)

# ---------------------------------------------------------------------------
# Experiments: experiments/NAME/ reproduces a published result (README side by side with
# the source, programs, rules.mk). Their full runs take minutes to tens of minutes, so
# they are not part of `make`: `make experiments` runs them all, `make experiment
# EXP=NAME` one. A full run writes its results under $(EXPDIR)/NAME/results/ (in the
# default build: experiments/NAME/results/, committed with the command, seeds and
# arithmetic in each table's header), then its figures and the numbers in its README
# (the same `figure` and `numbers` macros as the chapters; another build writes them
# under $(BUILD)/). The programs are built by `make`, and each experiment's quick mode
# (a small budget, under $(BUILD)/exp-quick/NAME/) runs in `make test`, so the code
# keeps working; the tests also check each README's claims against the committed
# results. In rules.mk: full-run targets go to EXP_RUNS, quick ones to EXP_QUICK.
# experiments/NAME/PROG.c -> $(BIN)/exp-PROG.
EXPERIMENTS := $(sort $(patsubst %/,%,$(dir $(wildcard experiments/*/rules.mk))))
EXPDIR := $(if $(PUBLISH),experiments,$(BUILD)/experiments)
EQUICK := $(BUILD)/exp-quick
$(foreach src,$(wildcard experiments/*/*.c),\
  $(eval $(call program,$(BIN)/exp-$(basename $(notdir $(src))),$(src))))
CH_FIGURES := $(FIGURES)
CH_READMES := $(READMES)
CH_FRESH := $(FRESH)
include $(wildcard experiments/*/rules.mk)
EXP_FIGURES := $(filter-out $(CH_FIGURES),$(FIGURES))
EXP_READMES := $(filter-out $(CH_READMES),$(READMES))
FIGURES := $(CH_FIGURES)
READMES := $(CH_READMES)
FRESH := $(CH_FRESH)
$(EXP_RUNS) $(EXP_QUICK): | $(FMNIST_OK)

# ---------------------------------------------------------------------------
# The coursework kit (exercises/: `make grade`, `make student`) and the book as a
# website (book/: `make html`, `make test-html`). BOOK_TESTS (on by default) puts the
# tests that depend on neither the BLAS kernel nor the seed base into `make test`: the
# student and wrong-answer editions of the kit, and the HTML book in a browser. CI's
# second and third passes turn it off (BOOK_TESTS=); they check the arithmetic.
BOOK_TESTS ?= 1
include exercises/rules.mk
-include $(sort $(wildcard book/*.mk))

# ---------------------------------------------------------------------------
# Hardening (README: "Reliability"): `make check-asan` builds everything with
# AddressSanitizer and UndefinedBehaviorSanitizer and runs the library's tests, a short
# run of every program and the probe under them (tests/sanitize.mk); `make fuzz` runs
# the libFuzzer harnesses of the parsers and readers (fuzz/fuzz.mk, with clang).
-include tests/sanitize.mk
-include fuzz/fuzz.mk

# ---------------------------------------------------------------------------
TEST_SRC := $(sort $(wildcard tests/*/*.c))
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(BUILD)/gdtest
# The tests are compiled without optimisation: they read tables and assert, and the
# numerics they call are the library's (-O2). -O0 compiles four times faster, and the
# suite is compiled once per build (CI makes three).
TEST_CFLAGS := $(filter-out -O%,$(CFLAGS)) -O0 -DGD_BUILD_DIR='"$(BUILD)"' -DGD_BIN_DIR='"$(BIN)"' -DGD_SEED_BASE=$(SEED) \
  -DGD_BOOK_TESTS=$(if $(BOOK_TESTS),1,0) -DGD_KIT_WRONG='"$(KIT_WRONG)"'
TEST_FILTER := $(if $(CH),--filter '$(if $(filter lib exp kit book probe fuzz,$(CH)),$(CH),ch$(CH))*/*')

$(BUILD)/tests/%.o: tests/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c -o $@ $<

$(TEST_BIN): $(TEST_OBJ) $(LIB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -o $@ $(TEST_OBJ) $(LIB) -lcriterion $(LDLIBS)

.PHONY: all programs runs figures chapter test bench fixtures clean help experiments experiment

all: programs runs figures $(READMES) ## build everything, run every chapter program, make every figure
programs: $(PROGRAMS) ## build the library and every program
runs: $(RUNS) ## run every chapter program (data under build/)
figures: $(FIGURES) ## regenerate every figure in figures/

# `make chapter CH=04`: one chapter's runs, figures and text.
CH_RUNS = $(filter $(BUILD)/ch$(CH)/%,$(RUNS))
chapter: $(PROGRAMS) $(CH_RUNS) $(filter $(FIGDIR)/ch$(CH)-%,$(FIGURES)) $(filter $(BUILD)/$(CH)-%,$(READMES)) ## one chapter's runs, figures and text (CH=04)

# `make experiments`: every experiment's full run, figures and README numbers (not part
# of `make`; see experiments/README.md for how long each takes). `make experiment
# EXP=cohen-eos`: one of them.
experiments: $(PROGRAMS) $(EXP_RUNS) $(EXP_FIGURES) $(EXP_READMES) ## the experiments' full runs (long; not part of make)
EXP_ONE = $(filter $(EXPDIR)/$(EXP)/% $(BUILD)/$(EXP).%,$(EXP_RUNS) $(EXP_READMES)) $(filter $(FIGDIR)/exp-$(EXP)-%,$(EXP_FIGURES))
experiment: $(PROGRAMS) $(EXP_ONE) ## one experiment's full run (EXP=NAME)
	@$(if $(EXP),,echo "make experiment: say which, e.g. EXP=cohen-eos (ls experiments/)" >&2; exit 2)

# `make test CH=01` runs Chapter 1's tests only; `CH=lib` the library's; `CH=exp` the
# experiments' (their quick modes and the claims of their committed results); `CH=kit`
# the coursework kit's; `CH=book` the HTML book's and the links'; `CH=probe` the
# generated probe of every program (README: Reliability); `CH=fuzz` the fuzzers' seed
# corpus and reproducers replayed. With CH=NN only that chapter's runs are needed;
# CH=lib, probe and fuzz need none.
TEST_RUNS := $(if $(CH),$(if $(filter exp,$(CH)),$(EXP_QUICK),$(CH_RUNS)),$(RUNS) $(EXP_QUICK))
TEST_BOOK := $(if $(CH),$(if $(filter kit,$(CH)),$(KIT_TESTS))$(if $(filter book,$(CH)),$(HTML_TEST)),$(KIT_TESTS) $(if $(BOOK_TESTS),$(HTML_TEST)))
test: $(FMNIST_OK) $(TEST_BIN) $(PROGRAMS) $(TEST_RUNS) $(FRESH) $(TEST_BOOK) ## run the test suite (CH=01 for one chapter, CH=lib; SEED=n for another seed base)
	$(TEST_BIN) $(TEST_FILTER)

bench: $(FMNIST_OK) $(BIN)/bench-mlp $(BIN)/bench-ckpt $(BIN)/bench-sweep $(BIN)/bench-gpt $(BIN)/bench-lenet ## benchmarks: MLP, GPT and LeNet training vs sgemm peak and PyTorch, checkpoint I/O, sweep speed-up
	@sh tools/deps.sh python3-torch   # the PyTorch side of the comparisons
	$(BIN)/bench-mlp
	$(BIN)/bench-ckpt
	$(BIN)/bench-sweep
	$(BIN)/bench-gpt
	$(BIN)/bench-lenet

# The reference numbers tests compare against come from PyTorch through committed
# scripts; the tests themselves never need Python.
fixtures: ## regenerate tests/ref/ from PyTorch (needs Debian's python3-torch)
	@sh tools/deps.sh python3-torch
	for script in tests/ref/*.py; do /usr/bin/python3 $$script || exit 1; done

clean: ## remove build products (figures/ is kept: it is committed)
	rm -rf $(BUILD)

help: ## list the targets
	@grep -hE '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([^:]*):.*## (.*)/  make \1\t\2/' | expand -t 18

-include $(shell find $(sort $(BUILD) $(PROGBUILD)) -name '*.d' 2>/dev/null)
