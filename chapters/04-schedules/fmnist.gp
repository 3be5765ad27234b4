# Figure 4.7: an MLP on Fashion-MNIST under six schedules, each at the base lr chosen on
# validation accuracy. Lines: the median over the seeds; bands: from the lowest to the
# highest seed. (a) the lr (log scale); (b) the training loss (mean minibatch loss of each
# logged window); (c) validation accuracy after each epoch.
# Data: ch04-summary --curves curves.tsv (rules.mk).
height = 980
load 'figures/style.gp'
f = data . '/curves.tsv'
stats f using 1 nooutput; n = int(STATS_max) + 1
# the schedule names and chosen lrs come from the data (each block's first row)
field(i, c) = system(sprintf("awk -F'\t' '!/^#/ && $1 == \"%d\" {print $%d; exit}' %s", i, c, f))
name(i) = sprintf('%s, lr %s', field(i, 2), field(i, 3))
lt(i) = i == 0 ? 6 : i == 1 ? 1 : i == 2 ? 4 : i == 3 ? 2 : i == 4 ? 5 : 3
set linetype 6 linecolor rgb c_theory linewidth 2 dashtype solid
set style fill transparent solid 0.15 noborder
set multiplot layout 3, 1 title 'Six schedules at their own base lr: median and range over the seeds'
set key outside right top font ',11'
set lmargin at screen 0.1
set rmargin at screen 0.72
set xrange [0:*]
set title '(a) the learning rate' font ',12'
set ylabel 'learning rate'
set logscale y
set format y '10^{%L}'
plot for [i=0:n-1] f every :::i::i using 5:($6 > 0 ? $6 : NaN) with lines linetype lt(i) title name(i) noenhanced
set title '(b) training loss, mean over each logged window of minibatches' font ',12'
set ylabel 'training loss'
set format y '%g'
set yrange [0.3:1]
set ytics (0.3, 0.4, 0.5, 0.6, 0.8, 1)
plot for [i=0:n-1] f every :::i::i using 5:8:9 with filledcurves linetype lt(i) notitle, \
     for [i=0:n-1] f every :::i::i using 5:7 with lines linetype lt(i) linewidth 1.5 title name(i) noenhanced
unset logscale y
set yrange [*:*]
set ytics autofreq
set title '(c) validation accuracy after each epoch' font ',12'
set ylabel 'validation accuracy (%)'
set xlabel 'epoch'
plot for [i=0:n-1] sprintf("< awk -F'\t' '!/^#/ && $1 == \"%d\" && $10 != \"nan\"' %s", i, f) \
       using 5:11:12 with filledcurves linetype lt(i) notitle, \
     for [i=0:n-1] f every :::i::i using 5:10 with linespoints linetype lt(i) title name(i) noenhanced
unset multiplot
