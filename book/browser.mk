# The HTML book in a real browser: book/browsertest.c drives Debian's headless chromium
# over the DevTools protocol (--remote-debugging-pipe), loads every page of $(HTML_DIR)
# and fails on a console error or exception, a resource that fails to load, a broken
# image, a MathML error or leftover TeX, a broken internal link or #fragment; it saves a
# screenshot of one chapter page. Before it judges the book it must catch every defect
# planted in book/testpages/ and pass the clean pages there (book/browsertest-self.sh).
# Needs neither Python nor node; chromium is installed on first use (tools/deps.sh).
HTML_DIR ?= $(BUILD)/html
HTML_TEST := $(BUILD)/html-test.ok
HTML_SCREENSHOT := $(BUILD)/html-screenshot.png
# The page to photograph, relative to $(HTML_DIR): Chapter 1 (empty: the first page with
# an image and a math element); seconds before a page or the browser counts as hung.
HTML_SHOT_PAGE ?= $(notdir $(patsubst %/README.md,%,$(firstword $(sort $(wildcard chapters/*/README.md))))).html
BROWSERTEST_TIMEOUT ?= 60
CHROMIUM_OK := $(BUILD)/.chromium-ok
# book/html.mk (helper of `make html`) defines the target `html`; without it the test fails
# with one line instead of a make error.
HTML_RULES ?= $(wildcard book/html.mk)

$(CHROMIUM_OK):
	@sh tools/deps.sh chromium
	@mkdir -p $(@D) && touch $@

$(BIN)/browsertest: book/browsertest.c $(LIB) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# `html` is phony (book/html.mk), so the test runs whenever it is asked for.
$(HTML_TEST): $(if $(HTML_RULES),html,no-html-rules) $(BIN)/browsertest book/browsertest-self.sh $(wildcard book/testpages/* book/testpages/*/* book/testpages-hang/*) | $(CHROMIUM_OK)
	@rm -f $@
	sh book/browsertest-self.sh $(BIN)/browsertest book/testpages $(BUILD)/browsertest-self
	nice $(BIN)/browsertest --timeout $(BROWSERTEST_TIMEOUT) --screenshot $(HTML_SCREENSHOT) \
	  $(if $(HTML_SHOT_PAGE),--screenshot-page $(HTML_SHOT_PAGE)) $(HTML_DIR)
	@touch $@

no-html-rules:
	@echo "make: no book/html.mk yet: nothing builds the HTML book ($(HTML_DIR))" >&2; exit 1
.PHONY: no-html-rules

test-html: $(HTML_TEST) ## load every HTML page in headless Chromium: fails on a console error, broken image or link, math error; saves a screenshot
.PHONY: test-html
