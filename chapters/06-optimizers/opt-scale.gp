# Figure 6.3: the loss multiplied by 100. SGD's sensitivity curve moves two decades to the
# left; Adam's stays where it was. Median over the seeds (line) and their range (band).
# Data: ch06-optimizers --curves (name scale lr median min max ndiv nseeds median_acc).
height = 700
f = data . '/opt-curves.tsv'
sel(n, s) = sprintf('< awk -F"\t" ''$1 == "%s" && $2 == %d && $4 != "inf"'' %s', n, s, f)
set logscale x
set format x '10^{%L}'
set xrange [1e-5:20]
set yrange [0.5:2.5]
set ylabel 'validation loss after 158 steps'
set key top left
set multiplot layout 2,1 title 'The loss multiplied by 100: the same problem, another gradient scale'
unset xlabel
plot sel('sgd', 1) using 3:5:6 with filledcurves linecolor rgb c_small fillstyle transparent solid 0.2 noborder notitle, \
     sel('sgd', 1) using 3:4 with linespoints linetype 1 title 'SGD, loss', \
     sel('sgd', 100) using 3:5:6 with filledcurves linecolor rgb c_large fillstyle transparent solid 0.2 noborder notitle, \
     sel('sgd', 100) using 3:4 with linespoints linetype 3 title 'SGD, 100 × loss'
set xlabel 'learning rate'
plot sel('adam', 1) using 3:5:6 with filledcurves linecolor rgb c_small fillstyle transparent solid 0.2 noborder notitle, \
     sel('adam', 1) using 3:4 with linespoints linetype 1 title 'Adam, loss', \
     sel('adam', 100) using 3:5:6 with filledcurves linecolor rgb c_large fillstyle transparent solid 0.2 noborder notitle, \
     sel('adam', 100) using 3:4 with linespoints linetype 3 dashtype 2 title 'Adam, 100 × loss'
unset multiplot
