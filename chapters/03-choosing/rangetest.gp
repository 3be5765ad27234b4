# Figure 3.2: the range test (fastai's lr_find) for three optimizers, seed 0: the raw
# minibatch loss (faint) and the smoothed loss against the lr; dashed: the sweep's best lr;
# triangles: valley, diamonds: minimum/10 (seed 0).
# Data: ch03-rangetest --out rt/OPT-s0.tsv; numbers-sweep.tsv for the best lrs.
load 'figures/style.gp'
num(k) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" {print $2}' %s/numbers-sweep.tsv", k, data)))
set logscale x
set format x '10^{%T}'
set xrange [1e-7:10]
set yrange [0:4]
set xlabel 'learning rate (growing exponentially, one step per point)'
set ylabel 'training loss'
set key at graph 0.02, graph 0.55 left Left reverse
set arrow from num('best_lr_sgd'), graph 0 to num('best_lr_sgd'), graph 1 nohead linetype 1 dashtype 2
set arrow from num('best_lr_momentum'), graph 0 to num('best_lr_momentum'), graph 1 nohead linetype 2 dashtype 3
set arrow from num('best_lr_adam'), graph 0 to num('best_lr_adam'), graph 1 nohead linetype 4 dashtype 2
plot data.'/rt/sgd-s0.tsv' using 2:3 with lines linecolor rgb c_faint notitle, \
     data.'/rt/momentum-s0.tsv' using 2:3 with lines linecolor rgb c_faint notitle, \
     data.'/rt/adam-s0.tsv' using 2:3 with lines linecolor rgb c_faint notitle, \
     data.'/rt/sgd-s0.tsv' using 2:4 with lines linetype 1 title 'SGD (smoothed)', \
     data.'/rt/momentum-s0.tsv' using 2:4 with lines linetype 2 title 'SGD + momentum', \
     data.'/rt/adam-s0.tsv' using 2:4 with lines linetype 4 title 'Adam', \
     data.'/rt/sgd-s0.suggest' using 5:(0.15) with points linetype 1 pointtype 9 pointsize 1.6 title 'valley', \
     data.'/rt/momentum-s0.suggest' using 5:(0.15) with points linetype 2 pointtype 9 pointsize 1.6 notitle, \
     data.'/rt/adam-s0.suggest' using 5:(0.15) with points linetype 4 pointtype 9 pointsize 1.6 notitle, \
     data.'/rt/sgd-s0.suggest' using 7:(0.4) with points linetype 1 pointtype 13 pointsize 1.6 title 'minimum/10', \
     data.'/rt/momentum-s0.suggest' using 7:(0.4) with points linetype 2 pointtype 13 pointsize 1.6 notitle, \
     data.'/rt/adam-s0.suggest' using 7:(0.4) with points linetype 4 pointtype 13 pointsize 1.6 notitle, \
     1/0 with lines linecolor rgb c_theory dashtype 2 title 'sweep best'
