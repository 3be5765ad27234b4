/* grade.h -- the autograder's side of an exercise: checks that give points.
 *
 * Each exercise has one automatic check, registered by id; `make grade` runs every
 * check (each in a child process of its own, with a time limit), prints a score table
 * and writes it as TSV and JSON. A check passes when none of its expectations failed;
 * it then earns the exercise's points (exercises/chNN/exercises.tsv), else none. A
 * failed expectation records one line saying what was expected and what was got; a
 * crash or a time-out in the student's code is reported the same way, never as a crash
 * of the grader.
 *
 *   // exercises/ch04/check.c
 *   #include "grade.h"
 *   #include "floor.h"            // the student's functions: exercises/ch04/floor.c
 *
 *   EXERCISE("4.1", check_floor)
 *   {
 *       for (double eta = 0.01; eta < 0.2; eta *= 2) {
 *           double want = simulated_floor(eta);       // computed here, never typed in
 *           grade_close(g, "ex_noise_floor(eta=0.05, sigma2=1, lambda=1)",
 *                       ex_noise_floor(eta, 1, 1), want, 0.05, 0);
 *       }
 *   }
 *
 * Expected values are computed by the check (from theory, from the library, from a
 * fresh run), never typed in; tolerances are stated and hold across seeds and BLAS
 * kernels. Checks run from the top of the tree (the working directory of `make grade`).
 */
#ifndef GRADE_H
#define GRADE_H

typedef struct grade grade;
typedef void (*grade_fn)(grade *g);

/* Register a check for exercise ID ("4.1"); the body follows as a function of `g`. */
void grade_register(const char *id, grade_fn fn, const char *file);
#define EXERCISE(ID, NAME)                                                  \
    static void NAME(grade *g);                                             \
    __attribute__((constructor)) static void NAME##_register(void)         \
    {                                                                       \
        grade_register(ID, NAME, __FILE__);                                 \
    }                                                                       \
    static void NAME(grade *g)

/* Expect ok; otherwise record the message (printf format: say what was expected and
 * what was got). Returns ok. The check goes on, so one run reports every failure; the
 * score table shows the first. */
int grade_expect(grade *g, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Expect |got - want| <= atol + rtol * |want|. The message names `what`, the expected
 * value with its tolerance and the value got ("got nan" for an unanswered stub) -- but
 * when `got` is a value grade_answer returned (a student's measured answer), the
 * expected value is not printed: it would be the answer. */
int grade_close(grade *g, const char *what, double got, double want, double rtol,
                double atol);

/* The student's answer KEY ("4.3.ratio") from the answers file of its chapter,
 * exercises/chNN/answers.tsv (lines "key<TAB>value"; '#' starts a comment). NAN, and a
 * failed expectation naming the file and key, when it is missing, blank or not a
 * number. */
double grade_answer(grade *g, const char *key);
/* The same for a word ("larger", "adam"): a pointer valid until the check ends, or ""
 * (and a failed expectation) when missing. */
const char *grade_answer_word(grade *g, const char *key);

/* The k-th seed of this grading run: the seed base (make grade SEED=n) plus k. */
unsigned long long grade_seed(int k);

/* Path of a built program ("ch02-regimes" -> "build/bin/ch02-regimes"). Write the name
 * out (grade_bin("ch03-rangetest")): exercises/rules.mk reads the names from the checks
 * and builds those programs before grading. */
const char *grade_bin(const char *program);

#endif
