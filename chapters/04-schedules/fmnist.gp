# Figure 4.7: an MLP on Fashion-MNIST under six schedules, means over the seeds.
# Top: the lr; middle: the training loss (mean minibatch loss over each 50 steps);
# bottom: test accuracy after each epoch. Data: ch04-summary --curves curves.tsv.
height = 900
load 'figures/style.gp'
f = data . '/curves.tsv'
stats f using 1 nooutput; n = int(STATS_max) + 1
# the schedule names come from the data (column 2 of each block's first row)
name(i) = system(sprintf("awk -F'\t' '!/^#/ && $1 == \"%d\" {print $2; exit}' %s", i, f))
lt(i) = i == 0 ? 6 : i == 1 ? 1 : i == 2 ? 4 : i == 3 ? 2 : i == 4 ? 5 : 3
set linetype 6 linecolor rgb c_theory linewidth 2 dashtype solid
set multiplot layout 3, 1 title 'Six schedules, the same model, optimizer, base lr and seeds'
set key outside right top font ',11'
set xrange [0:*]
set ylabel 'learning rate'
plot for [i=0:n-1] f every :::i::i using 4:5 with lines linetype lt(i) title name(i) noenhanced
set ylabel 'training loss'
set logscale y
set yrange [0.22:0.6]
set ytics (0.25, 0.3, 0.35, 0.4, 0.5, 0.6)
plot for [i=0:n-1] f every :::i::i using 4:6 with lines linetype lt(i) linewidth 1.5 title name(i) noenhanced
unset logscale y
set yrange [*:*]
set ytics autofreq
set ylabel 'test accuracy (%)'
set xlabel 'epoch'
plot for [i=0:n-1] f every :::i::i using 4:8 with linespoints linetype lt(i) title name(i) noenhanced
unset multiplot
