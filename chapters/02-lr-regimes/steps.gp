# Figure 2.2: steps to reach the target validation loss against the learning rate, for
# both models and every seed (dots), with the median over the seeds (line). Runs that
# never reached the target sit in the "not reached" band, runs the trainer stopped as
# diverged in the "diverged" band: an infinite number of steps, drawn apart, not as a
# number. Dashed: steps = c / lr, the slow side's law. Data: ch02-regimes --sweep
# --summary (one table per seed) and ch02-steps --out.
width = 820
height = 520
load 'figures/style.gp'
S = 1000                      # steps per run (rules.mk)
y_nr = 1700                   # the "not reached" band
y_div = 3400                  # the "diverged" band
set logscale xy
set xrange [0.007:15]
set yrange [50:5000]
set ytics (50, 100, 200, 500, 1000) nomirror
set xlabel 'learning rate'
set ylabel 'steps to validation loss 0.6'
set title 'Steps to the target: a U whose right side is a cliff'
set key bottom left font ',11'
set arrow from graph 0, first S to graph 1, first S nohead linecolor rgb c_faint dashtype 2
set label 'not reached in 1000 steps' at first 0.3, first y_nr * 1.08 center textcolor rgb '#555555' font ',10'
set label 'diverged' at first 0.3, first y_div * 1.08 center textcolor rgb c_large font ',10'
# 2/L at the start for logistic regression, from its numbers
L = real(system(sprintf("awk -F'\t' '$1 == \"logreg_sharp\" {print $2}' %s/numbers-logreg.tsv", data)))
set arrow from 2 / L, graph 0 to 2 / L, graph 1 nohead linecolor rgb c_other dashtype 3
set label '2/L at init (logistic)' at 2 / L, graph 0.04 offset 0.5, 0 textcolor rgb c_other font ',10'
# the slow side: c = lr * steps, between the smallest and largest product that
# ch02-steps found there (their geometric mean)
num(k) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" {print $2}' %s/numbers-steps-logreg.tsv", k, data)))
c_log = sqrt(num('steps_logreg_crawl_lo') * num('steps_logreg_crawl_hi'))
# each seed's runs, the three outcomes apart; the two models side by side
y(col_status, col_reached) = strcol(col_status) eq 'reached' ? column(col_reached) : \
                             strcol(col_status) eq 'diverged' ? y_div : y_nr
plot c_log / x with lines linetype 6 title sprintf('steps = %.0f / lr', c_log), \
     for [m in 'logreg mlp'] data . '/steps-' . m . '.tsv' using ($1 * (m eq 'mlp' ? 1.06 : 0.94)):6 \
         with lines linetype (m eq 'mlp' ? 5 : 4) \
         title (m eq 'mlp' ? 'MLP 784-64-10 (median of seeds)' : 'logistic regression (median of seeds)'), \
     for [m in 'logreg mlp'] for [s=0:2] data . '/sweep/' . m . '-s' . s . '.tsv' \
         using ($1 * (m eq 'mlp' ? 1.06 : 0.94)):(strcol(3) eq 'reached' ? $9 : NaN) \
         with points pointtype 7 pointsize 0.6 linecolor rgb (m eq 'mlp' ? c_extra : c_other) notitle, \
     for [m in 'logreg mlp'] for [s=0:2] data . '/sweep/' . m . '-s' . s . '.tsv' \
         using ($1 * (m eq 'mlp' ? 1.06 : 0.94)):(strcol(3) eq 'not_reached' ? y_nr * (1 + 0.08 * s) : NaN) \
         with points pointtype 6 pointsize 0.8 linecolor rgb (m eq 'mlp' ? c_extra : c_other) notitle, \
     for [m in 'logreg mlp'] for [s=0:2] data . '/sweep/' . m . '-s' . s . '.tsv' \
         using ($1 * (m eq 'mlp' ? 1.06 : 0.94)):(strcol(3) eq 'diverged' ? y_div * (1 + 0.08 * s) : NaN) \
         with points pointtype 2 pointsize 1 linewidth 2 linecolor rgb c_large notitle
