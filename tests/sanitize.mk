# tests/sanitize.mk -- the book under AddressSanitizer and UndefinedBehaviorSanitizer.
# Included by the top Makefile.
#
#   make check-asan-fast   the library and the library's tests (tests/lib/), built with
#                          -fsanitize=address,undefined, leaks included: 2 CPU-minutes,
#                          the build included (2 min 12 s on two busy cores; CI runs it)
#   make check-asan        the slow part, about 7 CPU-minutes (5 to 10 minutes on two
#                          cores, mostly the probe's 5,500 runs): all of check-asan-fast, then
#                          every program built the same way, the tools' and the fuzz
#                          reproducers' tests, a short run of every program
#                          (tests/probe/programs.tsv) and the generated probe
#                          (tests/probe/) on the sanitized programs
#
# Everything is built in a build directory of its own, $(ASAN_BUILD) (build-asan, or
# BUILD-asan for another BUILD), by a recursive make with the sanitizer flags in CFLAGS
# (programs are linked with $(CFLAGS), so the flags reach the link) and in LDLIBS (the
# test binary is linked without CFLAGS). -O1, as the gcc manual advises for ASan;
# -fno-sanitize-recover makes undefined behaviour stop the program instead of printing
# and going on. Clean means no sanitizer report at all. Every report ends its process
# (halt_on_error) with a status that is none of the book's 0, 1, 2 (86: ASan and
# LeakSanitizer, 87: UBSan); and since Criterion, which runs each test in a forked
# worker, never looks at the status of a worker that LeakSanitizer stops after its test
# passed, every run's output is also read for reports (tests/probe/sanitized.sh).
# lib_data/fmnist_peak_rss is left out: it measures the loader's memory, which ASan's
# shadow memory and redzones inflate (92 MB against its 80 MB bound).
ASAN_BUILD ?= $(BUILD)-asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_BIN := $(ASAN_BUILD)/bin
ASAN_DATA := $(abspath $(ASAN_BUILD))/data/fashion-mnist
# The sub-make takes CFLAGS from the environment (CFLAGS ?= in the Makefile, then its
# += of warnings and include paths), and LDLIBS on its command line. PUBLISH= : it
# never writes a committed file. GD_FASHION_MNIST: where the data come from (this make
# exports its own build's copy, which need not exist yet). The recipes start with +:
# the sub-make shares this make's job slots.
ASAN_MAKE = CFLAGS='-O1 -g $(ASAN_FLAGS)' GD_FASHION_MNIST='$(FMNIST_SRC)' $(MAKE) --no-print-directory \
  BUILD=$(ASAN_BUILD) PROGBUILD=$(ASAN_BUILD) SEED=$(SEED) PUBLISH= LDLIBS='$(ASAN_FLAGS) $(LDLIBS)'
ASAN_ENV = ASAN_OPTIONS=halt_on_error=1:exitcode=86:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1 \
  LSAN_OPTIONS=exitcode=86 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87 \
  GD_FASHION_MNIST=$(ASAN_DATA) OPENBLAS_NUM_THREADS=1
SANITIZED = sh tests/probe/sanitized.sh

.PHONY: check-asan check-asan-fast

check-asan-fast: ## the library's tests under ASan+UBSan, leaks included (~2 min; CI runs it)
	+@$(ASAN_MAKE) $(ASAN_BUILD)/gdtest $(ASAN_BUILD)/data/.fashion-mnist-ok
	$(ASAN_ENV) $(SANITIZED) $(ASAN_BUILD)/log/lib.log $(ASAN_BUILD)/gdtest --filter 'lib*/!(fmnist_peak_rss)'
	@echo "check-asan-fast: the library's tests are clean under ASan+UBSan"

# $(CHROMIUM_OK) (book/browser.mk): browsertest's short run loads a page in chromium.
# The tools' tests (tools_fresh needs the chapters' runs, which the sanitized build does
# not make), the fuzz harnesses' reproducers, a short run of every program, the probe.
# Every part runs; the target fails at the end naming the parts that did not pass (each
# part's output is in $(ASAN_BUILD)/log/).
check-asan: check-asan-fast $(CHROMIUM_OK) ## everything under ASan+UBSan: every program's short run and the probe (slow: ~10 min)
	+@$(ASAN_MAKE) programs
	@failed=""; rm -f $(ASAN_BUILD)/log/probe-failures.txt; \
	$(ASAN_ENV) $(SANITIZED) $(ASAN_BUILD)/log/tools.log $(ASAN_BUILD)/gdtest --filter 'tools_!(fresh)/*' || failed="$$failed tools"; \
	$(ASAN_ENV) $(SANITIZED) $(ASAN_BUILD)/log/fuzz.log $(ASAN_BUILD)/gdtest --filter 'fuzz*/*' || failed="$$failed fuzz"; \
	$(ASAN_ENV) $(SANITIZED) $(ASAN_BUILD)/log/short-runs.log sh tests/probe/short-runs.sh $(ASAN_BIN) $(ASAN_DATA) || failed="$$failed short-runs"; \
	$(ASAN_ENV) GD_PROBE=1 GD_PROBE_TIMEOUT=60 GD_PROBE_REPORT=$(abspath $(ASAN_BUILD))/log/probe-failures.txt \
	  $(SANITIZED) $(ASAN_BUILD)/log/probe.log $(ASAN_BUILD)/gdtest --filter 'probe*/*' || failed="$$failed probe"; \
	if [ -n "$$failed" ]; then echo "check-asan: not clean:$$failed (logs in $(ASAN_BUILD)/log/)" >&2; exit 1; fi; \
	echo "check-asan: the library, the tools, the fuzz reproducers, every program's short run and the probe are clean under ASan+UBSan"
