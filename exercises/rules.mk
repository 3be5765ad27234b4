# The coursework kit (exercises/README.md): the autograder, the student edition, and
# the kit's own tests. Included by the top Makefile.
#
# The grader, $(BIN)/grade, is exercises/grade.c with every chapter's exercise code and
# checks (exercises/chNN/*.c) and the library. It reads exercises/chNN/exercises.tsv and
# exercises/chNN/answers.tsv at run time, from the top of the book.
GRADE_SRC := exercises/grade.c $(sort $(wildcard exercises/ch[0-9][0-9]/*.c))
GRADE_OBJ := $(GRADE_SRC:%.c=$(PROGBUILD)/%.o)
GRADE_DATA := $(sort $(wildcard exercises/ch[0-9][0-9]/*.tsv))
$(GRADE_OBJ): CFLAGS += -iquote exercises

$(BIN)/grade: $(GRADE_OBJ) $(LIB) | $(DEPS_STAMP) $(FMNIST_OK)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(GRADE_OBJ) $(LIB) $(LDLIBS)
PROGRAMS += $(BIN)/grade

# Checks may run the book's programs (small runs, grade_bin("NAME") with the name
# written out): those are built before grading.
GRADE_PROGRAMS := $(addprefix $(BIN)/,$(sort $(shell sed -n 's/.*grade_bin("\([^"]*\)").*/\1/p' $(wildcard exercises/ch[0-9][0-9]/*.c))))

# `make grade`: every exercise's check, a score table on the terminal, and the same as
# $(BUILD)/grade.tsv and $(BUILD)/grade.json for an LMS. EX=4: Chapter 4's; EX=4.1: one.
GRADE_RUN = GRADE_BIN_DIR=$(abspath $(BIN)) $(1)/grade --seed-base $(SEED)
grade: $(BIN)/grade $(GRADE_PROGRAMS) | $(FMNIST_OK) ## grade the exercises: score table, build/grade.tsv and .json (EX=4 or EX=4.1 for some)
	@$(call GRADE_RUN,$(BIN)) $(if $(EX),--only $(EX)) --tsv $(BUILD)/grade.tsv --json $(BUILD)/grade.json
	@echo "grade: wrote $(BUILD)/grade.tsv and $(BUILD)/grade.json"

# The files of the book: what git tracks, and new files not ignored (so that an edition
# made before a commit has them). Outside a git checkout (a student edition) there is no
# instructor's edition to make one from.
BOOK_FILES := $(shell git ls-files --cached --others --exclude-standard 2>/dev/null | while read -r f; do [ -f "$$f" ] && echo "$$f"; done)
# As prerequisites they are named by absolute path, so that make compares their times
# but never runs their rules: some are made by rules that must not run here (an
# experiment's committed results and figures are remade only by `make experiments`, and
# a fresh clone's programs are newer than them).
BOOK_FILES_ABS := $(addprefix $(CURDIR)/,$(BOOK_FILES))

# `make student`: the student edition, in a directory of its own (default
# $(BUILD)/student; STUDENT_DIR=... for another): solutions replaced by their stubs,
# worked answers and the kit's own tests left out. It builds and runs with the same two
# commands, and `make grade` there shows every exercise failing until it is solved.
STUDENT_DIR ?= $(BUILD)/student
.PHONY: grade student grade-wrong
student: $(BIN)/edition ## write the student edition (solutions removed) to STUDENT_DIR (default build/student)
	@test -d .git || { echo "make student: not the instructor's git checkout (no .git here)" >&2; exit 2; }
	@$(BIN)/edition --student --out $(STUDENT_DIR) $(BOOK_FILES)
	@echo "make student: wrote $(STUDENT_DIR) (make -C $(STUDENT_DIR) grade)"

# The kit's tests (tests/kit/) read the grades of four editions, made here:
#   instructor   this tree: every check passes
#   student      the student edition, built and graded with its own `make grade`
#   wrong-all    every exercise's planted wrong answer (WRONG lines): every check fails
#   wrong-N.M    one planted wrong answer: exactly its points are lost
# The editions do not depend on the BLAS kernel or the seed base, so CI's second and
# third passes (BOOK_TESTS=) grade only this tree.
KIT := $(BUILD)/kit
KIT_WRONG ?= 4.1
$(KIT)/instructor.tsv: $(BIN)/grade $(GRADE_PROGRAMS) $(GRADE_DATA) | $(FMNIST_OK)
	@mkdir -p $(@D)
	$(call GRADE_RUN,$(BIN)) --tsv $@ > $(KIT)/instructor.txt

# The student edition is built as a student would (its own build/, its own make), with
# none of this make's settings (command-line variables reach a sub-make through the
# environment too).
$(KIT)/student.tsv: $(BIN)/edition $(BOOK_FILES_ABS)
	@mkdir -p $(@D)
	@echo "edition --student --out $(KIT)/student (the book's files)"
	@$(BIN)/edition --student --out $(KIT)/student $(BOOK_FILES)
	+env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u BUILD -u PROGBUILD -u SEED -u CFLAGS -u BOOK_TESTS \
	  $(MAKE) -C $(KIT)/student --no-print-directory grade BUILD=build SEED=$(SEED) > $(KIT)/student.txt 2>&1 \
	  || { tail -20 $(KIT)/student.txt >&2; exit 1; }
	cp $(KIT)/student/build/grade.tsv $@

# A wrong edition builds only its grader, against this tree's library.
$(KIT)/wrong-%.tsv: $(BIN)/edition $(BOOK_FILES_ABS) $(LIB) | $(GRADE_PROGRAMS) $(FMNIST_OK)
	@mkdir -p $(@D)
	@echo "edition --wrong $* --out $(KIT)/wrong-$* (the book's files)"
	@$(BIN)/edition --wrong $* --out $(KIT)/wrong-$* $(BOOK_FILES)
	$(CC) $(CFLAGS) -iquote $(KIT)/wrong-$*/exercises -o $(KIT)/wrong-$*/grade \
	  $(addprefix $(KIT)/wrong-$*/,$(GRADE_SRC)) $(LIB) $(LDLIBS)
	cd $(KIT)/wrong-$* && $(call GRADE_RUN,.) --tsv grade.tsv > grade.txt
	cp $(KIT)/wrong-$*/grade.tsv $@

grade-wrong: $(KIT)/wrong-all.tsv ## grade the edition with every exercise's planted wrong answer (all should fail)
	@cat $(KIT)/wrong-all/grade.txt

# (the kit tests, and the editions they read, are the instructor edition's only)
ifneq ($(wildcard tests/kit/test_kit.c),)
KIT_TESTS := $(KIT)/instructor.tsv $(if $(BOOK_TESTS),$(KIT)/student.tsv $(KIT)/wrong-all.tsv $(KIT)/wrong-$(KIT_WRONG).tsv)
endif
