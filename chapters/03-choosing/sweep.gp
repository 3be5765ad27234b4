# Figure 3.1: final validation loss (top) and accuracy (bottom) against the learning rate
# for three optimizers; line: mean over seeds, band: min to max; crosses at the top: lrs
# where at least one seed diverged. Data: ch03-summary --curves curves.tsv.
height = 720
load 'figures/style.gp'
f = data . '/curves.tsv'
name(i) = i == 0 ? 'SGD' : i == 1 ? 'SGD + momentum 0.9' : 'Adam'
lt(i) = i == 0 ? 1 : i == 1 ? 2 : 4
set logscale x
set format x '10^{%T}'
set xrange [1e-5:1]
set multiplot layout 2, 1 title 'Two epochs on 5000 images, three seeds per point'
set key top left
set ylabel 'validation loss'
set yrange [0:2.6]
plot for [i=0:2] f every :::i::i using 2:6:7 with filledcurves linetype lt(i) fillstyle transparent solid 0.2 noborder notitle, \
     for [i=0:2] f every :::i::i using 2:5 with linespoints linetype lt(i) title name(i), \
     for [i=0:2] f every :::i::i using 2:($4 > 0 ? 2.5 : 1/0) with points linetype lt(i) pointtype 2 pointsize 1.5 notitle
set ylabel 'validation accuracy (%)'
set xlabel 'learning rate'
set yrange [0:100]
set key bottom left
plot for [i=0:2] f every :::i::i using 2:9:10 with filledcurves linetype lt(i) fillstyle transparent solid 0.2 noborder notitle, \
     for [i=0:2] f every :::i::i using 2:8 with linespoints linetype lt(i) title name(i), \
     for [i=0:2] f every :::i::i using 2:($4 > 0 ? 95 : 1/0) with points linetype lt(i) pointtype 2 pointsize 1.5 title (i == 2 ? 'diverged (any seed)' : '')
unset multiplot
