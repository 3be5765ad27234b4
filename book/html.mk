# book/html.mk: `make html`, the book as a website in $(BUILD)/html/ (included by the
# top Makefile). Pandoc 2.17 (Debian's `pandoc`, installed on first use like the rest
# of the build); `make` (all) never needs it.
#
#   index.html              the title page and the table of contents (book/index.md)
#   introduction.html       README.md
#   NN-slug.html            chapters/NN-slug/README.md
#   experiments.html, exp-NAME.html, exercises.html, glossary.html (book/glossary.md),
#   bibliography.html (book/references.bib), programs.html (every program's --help)
#   src/PATH.html           a listing of each source file a page links to
#   src/DIR/index.html      a directory a page links to (results/): its files as .txt
#   figures/NAME.svg        the figures the pages show
#
# The pages render the committed markdown (not a build's $(BUILD)/book/ copy). They come in
# two phases. Phase 1 renders every markdown page through book/book.lua, which drops the
# HTML comments (mdsync's markers), rewrites the links and records what each page links
# to ($(HTML)/.links/PAGE.txt). Phase 2, a second make that reads the list
# $(HTML)/.listings.mk made from those records, makes the listings, directory pages and
# figures, the bibliography (which says who cites each entry) and the title page. Then
# every link and anchor of every page is checked (book/checklinks.sh). A broken link, an
# author-year citation that matches no entry of book/references.bib (the convention is at
# the citations in book/book.lua), or any pandoc warning (math it cannot render, say)
# fails the build (HTML_STRICT= only reports the filter's findings);
# book/html-selftest.sh shows that each of these checks catches what it should.
# Cost: about 40 CPU-seconds from scratch (150 pages; the programs already built), a
# third of a second when nothing changed; a changed chapter redoes its page and the
# title page.

HTML := $(BUILD)/html
PANDOC ?= pandoc
HTML_STRICT ?= 1
HTML_DEPS := $(BUILD)/.deps-pandoc-ok

$(HTML_DEPS):
	@sh tools/deps.sh pandoc
	@mkdir -p $(@D) && touch $@

# The pages, in reading order (previous / next follow it).
HTML_MD := README.md $(sort $(wildcard chapters/*/README.md)) \
  $(wildcard experiments/README.md) $(sort $(wildcard experiments/*/README.md)) \
  $(wildcard exercises/README.md) $(wildcard exercises/INSTRUCTOR.md) \
  $(sort $(wildcard exercises/*/*.md)) $(wildcard book/glossary.md) \
  book/bibliography.md book/programs.md $(sort $(wildcard tools/*.md)) $(wildcard fuzz/README.md)

# A page's file name (book/book.lua's page_of says the same).
html_name = $(strip $(or \
  $(if $(filter README.md,$(1)),introduction), \
  $(patsubst chapters/%/README.md,%,$(filter chapters/%/README.md,$(1))), \
  $(if $(filter experiments/README.md,$(1)),experiments), \
  $(patsubst experiments/%/README.md,exp-%,$(filter experiments/%/README.md,$(1))), \
  $(if $(filter exercises/README.md,$(1)),exercises), \
  $(if $(filter book/glossary.md,$(1)),glossary), \
  $(if $(filter book/programs.md,$(1)),programs), \
  $(if $(filter book/bibliography.md,$(1)),bibliography), \
  $(subst /,-,$(1:.md=)))).html

HTML_COMMON := book/book.lua book/template.html book/references.bib $(HTML)/.order
HTML_PANDOC = --fail-if-warnings -f markdown+gfm_auto_identifiers-implicit_figures --mathml \
  --template book/template.html --lua-filter book/book.lua \
  -M book-order=$(HTML)/.order -M book-bib=book/references.bib -M book-strict=$(HTML_STRICT)
# pandoc writes to a temporary file, renamed when it succeeded
html_run = @echo "pandoc $(2) -> $@"; mkdir -p $(@D) $(HTML)/.links && \
  $(PANDOC) -t html5 $(1) $(HTML_PANDOC) -o $@.tmp && mv $@.tmp $@ || { rm -f $@.tmp; exit 1; }

# The order of the pages, with their titles, rewritten only when it changes (every page's
# navigation depends on it).
$(HTML)/.order: $(filter-out book/programs.md book/bibliography.md,$(HTML_MD)) book/html.mk | $(HTML_DEPS)
	@mkdir -p $(@D)
	@for f in $(HTML_MD); do echo "$$f"; done > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

# Phase 1: the markdown pages (all but the bibliography).
define html_page
$(HTML)/$(call html_name,$(1)): $(2) $(HTML_COMMON) | $(HTML_DEPS)
	$$(call html_run,-M book-mode=page -M book-src=$(1) -M book-out=$(call html_name,$(1)) \
	  -M book-links=$(HTML)/.links/$(call html_name,$(1)).txt $(2),$(1))
HTML_PAGES += $(HTML)/$(call html_name,$(1))
endef
$(foreach md,$(filter-out book/programs.md book/bibliography.md,$(HTML_MD)),\
  $(eval $(call html_page,$(md),$(md))))
$(eval $(call html_page,book/programs.md,$(HTML)/.gen/programs.md))

# The program index: every program's --help, run now (so html needs the programs).
HTML_PROGS := $(filter $(BIN)/ch%,$(PROGRAMS)) $(filter $(BIN)/exp-%,$(PROGRAMS)) \
  $(filter-out $(BIN)/ch% $(BIN)/exp-% $(BIN)/bench-%,$(PROGRAMS)) $(filter $(BIN)/bench-%,$(PROGRAMS))
$(HTML)/.gen/programs.md: book/programs.sh $(PROGRAMS) | $(HTML_DEPS)
	@mkdir -p $(@D)
	@echo "book/programs.sh: --help of $(words $(HTML_PROGS)) programs -> $@"
	@sh book/programs.sh $(BIN) $(HTML_PROGS) > $@.tmp && mv $@.tmp $@ || { rm -f $@.tmp; exit 1; }

# Phase 2: what the pages link to. Read only when an html target is asked for.
HTML_LINKS := $(HTML_PAGES:$(HTML)/%=$(HTML)/.links/%.txt)
$(HTML)/.listings.mk: $(HTML_PAGES)
	@cat $(HTML_LINKS) > $(HTML)/.backrefs.tsv.tmp
	@if cmp -s $(HTML)/.backrefs.tsv.tmp $(HTML)/.backrefs.tsv; then rm $(HTML)/.backrefs.tsv.tmp; \
	  else mv $(HTML)/.backrefs.tsv.tmp $(HTML)/.backrefs.tsv; fi
	@awk -F'\t' '$$1 == "src" || $$1 == "dir"' $(HTML)/.backrefs.tsv > $(HTML)/.backrefs-src.tsv.tmp
	@if cmp -s $(HTML)/.backrefs-src.tsv.tmp $(HTML)/.backrefs-src.tsv; then rm $(HTML)/.backrefs-src.tsv.tmp; \
	  else mv $(HTML)/.backrefs-src.tsv.tmp $(HTML)/.backrefs-src.tsv; fi
	@{ printf 'HTML_SRCFILES :='; awk -F'\t' '$$1 == "src" { print $$2 }' $(HTML)/.backrefs.tsv | sort -u | tr '\n' ' '; echo; \
	   printf 'HTML_SRCDIRS :='; awk -F'\t' '$$1 == "dir" { print $$2 }' $(HTML)/.backrefs.tsv | sort -u | \
	     while read -r d; do find "$$d" -type d; done | sort -u | tr '\n' ' '; echo; \
	   printf 'HTML_FIGFILES :='; awk -F'\t' '$$1 == "fig" { print $$2 }' $(HTML)/.backrefs.tsv | sort -u | tr '\n' ' '; echo; \
	} > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
# (an empty recipe: make looks at their times again, unchanged when their content is)
$(HTML)/.backrefs.tsv $(HTML)/.backrefs-src.tsv: $(HTML)/.listings.mk ;

# `make html` runs phase 2 in a make of its own, which reads the list (whatever the goal
# that asked for html: html, test-html, test).
ifdef HTML_PHASE2
include $(HTML)/.listings.mk
endif

# the bibliography (phase 2) links to its source
HTML_SRCFILES += book/references.bib
HTML_LISTINGS := $(sort $(HTML_SRCFILES:%=$(HTML)/src/%.html))
HTML_DIRPAGES := $(HTML_SRCDIRS:%=$(HTML)/src/%/index.html)
HTML_RAW := $(foreach d,$(HTML_SRCDIRS),$(patsubst %,$(HTML)/src/%.txt,$(filter-out $(HTML_SRCDIRS),$(wildcard $(d)/*))))
HTML_FIGS := $(HTML_FIGFILES:%=$(HTML)/%)

# The files a page shows (listings, figures, raw copies) are named by absolute path here
# ($(CURDIR)/...): make then compares their times but never runs their rules. Some of
# them are made by rules that must not run for the website: an experiment's committed
# results and figures are remade only by `make experiments` (minutes to hours), and a
# fresh clone's programs are newer than them. The website shows the files as they are.
$(HTML)/src/%.html: $(CURDIR)/% book/book.lua book/template.html $(HTML)/.backrefs-src.tsv | $(HTML_DEPS)
	$(call html_run,-M book-mode=listing -M book-backrefs=$(HTML)/.backrefs-src.tsv -M book-src=$* -M book-out=src/$*.html /dev/null,$*)

define html_dir
$(HTML)/src/$(1)/index.html: $(CURDIR)/$(1) book/book.lua book/template.html $(HTML)/.backrefs-src.tsv | $(HTML_DEPS)
	$$(call html_run,-M book-mode=dir -M book-backrefs=$(HTML)/.backrefs-src.tsv -M book-src=$(1) -M book-out=src/$(1)/index.html /dev/null,$(1)/)
endef
$(foreach d,$(HTML_SRCDIRS),$(eval $(call html_dir,$(d))))

$(HTML)/src/%.txt: $(CURDIR)/%
	@mkdir -p $(@D) && cp $< $@
$(HTML)/figures/%: $(CURDIR)/figures/%
	@mkdir -p $(@D) && cp $< $@
$(HTML)/book.css: book/book.css
	@mkdir -p $(@D) && cp $< $@

$(HTML)/bibliography.html: book/bibliography.md $(HTML_COMMON) $(HTML)/.backrefs.tsv | $(HTML_DEPS)
	$(call html_run,--citeproc --bibliography book/references.bib -M book-mode=bib -M book-backrefs=$(HTML)/.backrefs.tsv \
	  -M book-src=book/bibliography.md -M book-out=bibliography.html \
	  -M book-links=$(HTML)/.links/bibliography.html.txt book/bibliography.md,book/bibliography.md)

$(HTML)/index.html: book/index.md $(filter-out book/programs.md,$(HTML_MD)) $(HTML_COMMON) | $(HTML_DEPS)
	$(call html_run,-M book-mode=index -M book-src=book/index.md -M book-out=index.html \
	  -M book-links=$(HTML)/.links/index.html.txt book/index.md,book/index.md)

HTML_ALL = $(HTML)/index.html $(HTML_PAGES) $(HTML)/bibliography.html $(HTML_LISTINGS) \
  $(HTML_DIRPAGES) $(HTML_RAW) $(HTML_FIGS) $(HTML)/book.css

# Every href and src of every page points at a file of the website, and every #anchor
# at an id of its page.
$(HTML)/.links-ok: $(HTML_ALL) book/checklinks.sh
	@sh book/checklinks.sh $(HTML)
	@touch $@

# The checks above catch what they claim to (planted citations, links, math; a few seconds,
# again only when the filter or the checks change).
HTML_SELFTEST := $(BUILD)/html-selftest.ok
$(HTML_SELFTEST): book/html-selftest.sh book/book.lua book/checklinks.sh book/template.html | $(HTML_DEPS)
	@sh book/html-selftest.sh
	@touch $@

.PHONY: html html-phase2
html: $(HTML_SELFTEST) $(HTML)/.listings.mk ## the book as a website in build/html/ (pandoc; open build/html/index.html)
	@$(MAKE) --no-print-directory HTML_PHASE2=1 html-phase2
	@echo "html: open $(HTML)/index.html"
html-phase2: $(HTML)/.links-ok
	@:
