# Figure 2.2: steps to the target validation loss against the learning rate, both
# models, every seed. Top: each seed that reached the target (dots) and the median over
# the seeds (line; a seed that did not reach it counts as infinitely many steps, so the
# median exists where more than half reached it). Bottom: how many seeds reached the
# target, did neither, or diverged, at each learning rate. Dashed: steps = c / lr, the
# slow side's law. Data: ch02-regimes --sweep --summary and ch02-steps --out.
width = 820
height = 700
load 'figures/style.gp'
set multiplot layout 2, 1 title 'Steps to the target: a U whose right side is a cliff'
set logscale x
set xrange [0.007:15]
shift(m) = m eq 'mlp' ? 1.06 : 0.94     # the two models drawn slightly apart
name(m) = m eq 'mlp' ? 'MLP 784-64-10' : 'logistic regression'
colour(m) = m eq 'mlp' ? c_extra : c_other
S = int(system(sprintf("awk -F'\t' '$1 == \"steps_logreg_steps\" {print $2}' %s/numbers-steps-logreg.tsv", data)))
N = int(system(sprintf("awk -F'\t' '$1 == \"steps_logreg_seeds\" {print $2}' %s/numbers-steps-logreg.tsv", data)))
T = real(system(sprintf("awk -F'\t' '$1 == \"steps_logreg_target\" {print $2}' %s/numbers-steps-logreg.tsv", data)))

# --- top: steps to the target
set lmargin at screen 0.11
set rmargin at screen 0.97
set tmargin at screen 0.91
set bmargin at screen 0.42
set logscale y
set yrange [50:S * 1.15]
set ytics (50, 100, 200, 500, 1000) nomirror
set format x ''
set xlabel ''
set ylabel sprintf('steps to validation loss %g', T)
set key top right font ',10'
# 2/lambda_max at the start for logistic regression: the median over the seeds, from its numbers
L = real(system(sprintf("awk -F'\t' '$1 == \"logreg_sharp\" {print $2}' %s/numbers-logreg.tsv", data)))
set arrow 1 from 2 / L, graph 0 to 2 / L, graph 1 nohead linecolor rgb c_theory dashtype 3
# the slow side: c = lr * steps, the geometric mean of the smallest and largest product
num(k) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" {print $2}' %s/numbers-steps-logreg.tsv", k, data)))
c_log = sqrt(num('steps_logreg_crawl_lo') * num('steps_logreg_crawl_hi'))
plot c_log / x with lines linetype 6 title sprintf('steps = %.0f / η', c_log), \
     NaN with lines linecolor rgb c_theory dashtype 3 title sprintf('2/λ_{max} at the start, logistic regression (median of %d seeds)', N), \
     for [m in 'logreg mlp'] data . '/steps-' . m . '.tsv' using ($1 * shift(m)):7 with linespoints \
         linecolor rgb colour(m) linewidth 2 pointtype 5 pointsize 0.5 title name(m) . ': median over seeds', \
     for [m in 'logreg mlp'] data . '/sweep-' . m . '.tsv' using ($1 * shift(m)):(strcol(3) eq 'reached' ? $9 : NaN) \
         with points pointtype 6 pointsize 0.7 linecolor rgb colour(m) title name(m) . ': one seed'

# --- bottom: the outcomes, counted over the seeds
unset arrow 1
set tmargin at screen 0.38
set bmargin at screen 0.08
unset logscale y
set yrange [-0.3:N + 0.3]
set ytics 0, 1, N
set format x '%g'
set xlabel 'learning rate η'
set ylabel sprintf('seeds (of %d)', N)
# the key: colour is the model (as above), the line style the outcome
set key at first 0.1, first 2.6 center center font ',10' width -4
plot for [m in 'logreg mlp'] data . '/steps-' . m . '.tsv' using ($1 * shift(m)):3 with linespoints \
         linecolor rgb colour(m) pointtype 7 pointsize 0.6 notitle, \
     for [m in 'logreg mlp'] data . '/steps-' . m . '.tsv' using ($1 * shift(m)):5 with linespoints \
         linecolor rgb colour(m) dashtype 2 pointtype 6 pointsize 0.8 notitle, \
     for [m in 'logreg mlp'] data . '/steps-' . m . '.tsv' using ($1 * shift(m)):4 with linespoints \
         linecolor rgb colour(m) dashtype 3 pointtype 2 pointsize 1 linewidth 2 notitle, \
     NaN with linespoints linecolor rgb '#555555' pointtype 7 pointsize 0.6 title 'reached the target', \
     NaN with linespoints linecolor rgb '#555555' dashtype 2 pointtype 6 pointsize 0.8 title 'neither', \
     NaN with linespoints linecolor rgb '#555555' dashtype 3 pointtype 2 pointsize 1 linewidth 2 title 'diverged'
unset multiplot
