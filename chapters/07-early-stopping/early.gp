# Figure 7.1: 1000 training images, 60 epochs, never stopped ("full"); where early
# stopping on val_loss (patience 5) and on val_acc (patience 10) fire.
# Data: ch07-fit logs (full.tsv) and numbers tables (numbers-esloss/esacc.tsv).
height = 720
load 'figures/style.gp'
num(f, k) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" {print $2}' %s/%s", k, data, f)))
best = num('numbers-esloss.tsv', 'esloss_best_epoch')
stop = num('numbers-esloss.tsv', 'esloss_stop_epoch')
stopacc = num('numbers-esacc.tsv', 'esacc_stop_epoch')
f = data . '/full.tsv'
set multiplot layout 2, 1 title 'Overfitting 1000 images: the validation loss turns, early stopping watches it'
set key outside right top font ',11'
set xrange [0:60]
set arrow 1 from best, graph 0 to best, graph 1 nohead linecolor rgb c_right dashtype 2 linewidth 1.5
set arrow 2 from stop, graph 0 to stop, graph 1 nohead linecolor rgb c_large dashtype 2 linewidth 1.5
set arrow 3 from stopacc, graph 0 to stopacc, graph 1 nohead linecolor rgb c_other dashtype 3 linewidth 1.5
set ylabel 'loss'
set logscale y
plot f using 2:($5 == $5 ? $4 : 1/0) with lines linetype 1 title 'training (minibatches)', \
     f using 2:5 with linespoints linetype 3 title 'validation', \
     f using 2:7 with lines linetype 5 title 'test', \
     NaN with lines linecolor rgb c_right dashtype 2 title 'best val loss', \
     NaN with lines linecolor rgb c_large dashtype 2 title 'stop (patience 5)', \
     NaN with lines linecolor rgb c_other dashtype 3 title 'stop on val acc'
unset logscale y
set ylabel 'accuracy (%)'
set xlabel 'epoch'
set yrange [70:*]
plot f using 2:(100*$6) with linespoints linetype 3 title 'validation', \
     f using 2:(100*$8) with lines linetype 5 title 'test'
unset multiplot
