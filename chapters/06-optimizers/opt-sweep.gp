# Figure 6.1: each optimizer's sensitivity curve: the final validation loss against the lr
# (log scale), median over the seeds (line and dots) and the range of the seeds (band).
# An lr at which a seed diverged has no median plotted (the run has no loss).
# Data: ch06-optimizers --curves (name scale lr median min max ndiv nseeds median_acc).
height = 760
f = data . '/opt-curves.tsv'
sel(n) = sprintf('< awk -F"\t" ''$1 == "%s" && $2 == 1 && $4 != "inf"'' %s', n, f)
set logscale x
set format x '10^{%L}'
set xrange [1e-5:20]
set yrange [0.5:2.5]
set ylabel 'validation loss after 158 steps'
set key top left
set multiplot layout 2,1 title 'Seven optimizers, one problem (median and range over the seeds)'
unset xlabel
plot sel('sgd') using 3:5:6 with filledcurves linecolor rgb c_small fillstyle transparent solid 0.2 noborder notitle, \
     sel('sgd') using 3:4 with linespoints linetype 1 title 'SGD', \
     sel('momentum') using 3:5:6 with filledcurves linecolor rgb c_right fillstyle transparent solid 0.2 noborder notitle, \
     sel('momentum') using 3:4 with linespoints linetype 2 title 'SGD + momentum 0.9', \
     sel('nesterov') using 3:5:6 with filledcurves linecolor rgb c_large fillstyle transparent solid 0.2 noborder notitle, \
     sel('nesterov') using 3:4 with linespoints linetype 3 title 'Nesterov 0.9'
set xlabel 'learning rate'
plot sel('adam') using 3:5:6 with filledcurves linecolor rgb c_small fillstyle transparent solid 0.2 noborder notitle, \
     sel('adam') using 3:4 with linespoints linetype 1 title 'Adam', \
     sel('adamw') using 3:5:6 with filledcurves linecolor rgb c_right fillstyle transparent solid 0.2 noborder notitle, \
     sel('adamw') using 3:4 with linespoints linetype 2 dashtype 2 title 'AdamW', \
     sel('rmsprop') using 3:5:6 with filledcurves linecolor rgb c_large fillstyle transparent solid 0.2 noborder notitle, \
     sel('rmsprop') using 3:4 with linespoints linetype 3 title 'RMSprop', \
     sel('adagrad') using 3:5:6 with filledcurves linecolor rgb c_other fillstyle transparent solid 0.2 noborder notitle, \
     sel('adagrad') using 3:4 with linespoints linetype 4 title 'Adagrad'
unset multiplot
