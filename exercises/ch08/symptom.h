/* symptom.h -- Exercise 8.4: four detection rules of §8.8's table (see symptom.c). */
#ifndef EX_CH08_SYMPTOM_H
#define EX_CH08_SYMPTOM_H

enum { EX_EXPLOSION = 0, EX_STUCK = 1, EX_OSCILLATION = 2, EX_PLATEAU = 3 };

/* 1 if the rule fires on a run's step losses loss[0..n-1] (a run of T steps that ended
 * after n <= T of them), 0 if not. lnC is ln(number of classes). */
int ex_symptom(int rule, const double *loss, long n, long T, double lnC);

#endif
