# fuzz/fuzz.mk -- libFuzzer harnesses for the library's input surfaces (fuzz/README.md).
# Included by the Makefile (-include fuzz/fuzz.mk); uses its BUILD, LIB_SRC and LDLIBS.
#
#   make fuzz                   every harness for FUZZ_TIME seconds (600), one after another
#   make fuzz FUZZ=sched        one harness (or a list: FUZZ='optim sched')
#   make fuzz FUZZ_TIME=60      a shorter run
#   make fuzz-build             build the harnesses only
#   make fuzz FUZZ_FLAGS='-fork=1 -ignore_crashes=1'   more libFuzzer flags (here: go on
#                               after a finding, to see whether there are others)
#
# The harnesses and the library are compiled by Debian's clang with libFuzzer, ASan and
# UBSan (UBSan aborts: a report is a finding) into $(BUILD)/fuzz/, apart from the gcc
# build. clang is installed on first use (tools/deps.sh clang libclang-rt-dev), only
# for these targets. The corpus that grows while fuzzing lives in
# $(BUILD)/fuzz/corpus/NAME/ (not committed) and starts from fuzz/corpus/NAME/ and
# fuzz/regress/NAME/. A finding (a crash, a sanitizer report, a broken promise that a
# harness checks, a hang over FUZZ_TIMEOUT seconds) is saved under
# $(BUILD)/fuzz/findings/NAME/; the other harnesses still run, and make fails at the
# end. Each run's log is $(BUILD)/fuzz/NAME.log, its numbers $(BUILD)/fuzz/NAME.stats.

FUZZ_NAMES := optim sched cli idx ckpt sweep
FUZZ ?= $(FUZZ_NAMES)
FUZZ_TIME ?= 600
FUZZ_TIMEOUT ?= 20
FUZZ_CC ?= clang
FUZZ_DIR := $(BUILD)/fuzz
# -O1 as libFuzzer's documentation suggests; UBSan's reports abort so that libFuzzer
# keeps the input. No -MMD here: the library's dependency files are the gcc build's.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -O1 -g -std=c11 -Wall -Wextra -Werror -D_DEFAULT_SOURCE -iquote lib $(FUZZ_SAN)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/%.o)
FUZZ_LIB := $(FUZZ_DIR)/libgd-fuzz.a
FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_CLANG_OK := $(FUZZ_DIR)/.clang-ok
# The files the harnesses write for the library to read (IDX files, checkpoints) go to
# memory when there is a /dev/shm.
FUZZ_TMP ?= $(if $(wildcard /dev/shm/.),/dev/shm,$(or $(TMPDIR),/tmp))

$(FUZZ_CLANG_OK): tools/deps.sh
	@mkdir -p $(@D)
	@command -v $(FUZZ_CC) >/dev/null 2>&1 && printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' | \
	  $(FUZZ_CC) -fsanitize=fuzzer,address,undefined -x c -o $(@D)/clang-test - 2>/dev/null \
	  || sh tools/deps.sh clang libclang-rt-dev
	@rm -f $(@D)/clang-test && touch $@

$(FUZZ_DIR)/lib/%.o: lib/%.c lib/*.h | $(FUZZ_CLANG_OK)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h lib/*.h $(FUZZ_LIB) | $(FUZZ_CLANG_OK)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LDLIBS)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS) ## build the fuzz harnesses (clang, libFuzzer, ASan+UBSan)

# One harness after another (never in parallel: each is one process on one core), each
# for FUZZ_TIME seconds; a finding does not stop the others, make fails at the end.
fuzz: $(FUZZ:%=$(FUZZ_DIR)/fuzz_%) ## run each fuzz harness for FUZZ_TIME seconds (600; FUZZ=NAME for one)
	@failed=""; commit=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown); \
	for name in $(FUZZ); do \
	  corpus=$(FUZZ_DIR)/corpus/$$name; found=$(FUZZ_DIR)/findings/$$name; \
	  mkdir -p $$corpus $$found; \
	  dict=""; [ -f fuzz/$$name.dict ] && dict="-dict=fuzz/$$name.dict"; \
	  seeds=""; for d in fuzz/corpus/$$name fuzz/regress/$$name; do [ -d $$d ] && seeds="$$seeds $$d"; done; \
	  echo "fuzz: $$name for $(FUZZ_TIME) s (log $(FUZZ_DIR)/$$name.log)"; \
	  TMPDIR=$(FUZZ_TMP) nice $(FUZZ_DIR)/fuzz_$$name -max_total_time=$(FUZZ_TIME) -timeout=$(FUZZ_TIMEOUT) \
	    -print_final_stats=1 -artifact_prefix=$$found/ $$dict $(FUZZ_FLAGS) $$corpus $$seeds \
	    > $(FUZZ_DIR)/$$name.log 2>&1; rc=$$?; \
	  execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/$$name.log); \
	  cov=$$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' $(FUZZ_DIR)/$$name.log | tail -1 | \
	         sed -nE 's/.* cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+)\/([0-9a-zA-Z]+) .*/cov \1, ft \2, corpus \3 files \/ \4/p'); \
	  nfound=$$(ls $$found | wc -l); \
	  echo "$$name	commit $$commit	$(FUZZ_TIME) s	execs $$execs	$$cov	exit $$rc	findings $$nfound" \
	    | tee $(FUZZ_DIR)/$$name.stats; \
	  if [ $$rc -ne 0 ] || [ $$nfound -ne 0 ]; then \
	    failed="$$failed $$name"; \
	    echo "fuzz: $$name FOUND something: $$(ls $$found | tr '\n' ' ')(in $$found; the report is at the end of $(FUZZ_DIR)/$$name.log)." >&2; \
	    echo "fuzz: replay: $(FUZZ_DIR)/fuzz_$$name FILE; keep it: copy it to fuzz/regress/$$name/ with a note (fuzz/README.md)" >&2; \
	  fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: findings in:$$failed" >&2; exit 1; fi

# The binary seeds (IDX files, checkpoints, optimizer and plateau states) are written by
# the library itself: `make fuzz-corpus` remakes them after a format change (commit the
# result). Built by the ordinary compiler with the ordinary library.
$(FUZZ_DIR)/mkcorpus: fuzz/mkcorpus.c fuzz/fuzz_ckpt.c fuzz/fuzz_optim.c fuzz/fuzz.h $(LIB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

.PHONY: fuzz-corpus
fuzz-corpus: $(FUZZ_DIR)/mkcorpus $(FMNIST_OK) ## remake the binary seeds of fuzz/corpus/ (IDX, checkpoints, states)
	@mkdir -p fuzz/corpus/idx fuzz/corpus/ckpt fuzz/corpus/optim fuzz/corpus/sched
	$(FUZZ_DIR)/mkcorpus fuzz/corpus
