# Figure 3.2: fastai's lr_find for three optimizers, every seed: the raw minibatch losses
# (faint) and the smoothed loss against the lr; dashed: the sweep's best lr with the
# cosine schedule; triangles: valley, diamonds: minimum/10 (one per seed).
# Data: ch03-rangetest --out rt/OPT.tsv (one block per seed), rt/OPT.suggest (one row
# per seed); numbers-sweep.tsv for the best lrs.
load 'figures/style.gp'
num(k) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" {print $2}' %s/numbers-sweep.tsv", k, data)))
nseeds = int(system(sprintf("awk -F'\\t' 'NF && !/^#/ && $1 != \"label\" {n++} END {print n}' %s/rt/sgd.suggest", data)))
set logscale x
set format x '10^{%T}'
set xrange [1e-7:10]
set yrange [0:4]
set xlabel 'learning rate (growing exponentially, one step per point)'
set ylabel 'training loss'
set title sprintf('%d seeds per optimizer', nseeds)
set key at graph 0.02, graph 0.6 left Left reverse
set arrow from num('best_lr_sgd_cosine'), graph 0 to num('best_lr_sgd_cosine'), graph 1 nohead linetype 1 dashtype 2
set arrow from num('best_lr_momentum_cosine'), graph 0 to num('best_lr_momentum_cosine'), graph 1 nohead linetype 2 dashtype 3
set arrow from num('best_lr_adam_cosine'), graph 0 to num('best_lr_adam_cosine'), graph 1 nohead linetype 4 dashtype 2
o(i) = i == 0 ? 'sgd' : i == 1 ? 'momentum' : 'adam'
lt(i) = i == 0 ? 1 : i == 1 ? 2 : 4
title(i) = i == 0 ? 'SGD (smoothed)' : i == 1 ? 'SGD + momentum' : 'Adam'
plot for [i=0:2] for [s=0:nseeds-1] data.'/rt/'.o(i).'.tsv' every :::s::s using 3:4 with lines linecolor rgb c_faint notitle, \
     for [i=0:2] for [s=0:nseeds-1] data.'/rt/'.o(i).'.tsv' every :::s::s using 3:5 with lines linetype lt(i) linewidth 1 title (s == 0 ? title(i) : ''), \
     for [i=0:2] data.'/rt/'.o(i).'.suggest' using 5:(0.15) with points linetype lt(i) pointtype 9 pointsize 1.3 title (i == 0 ? 'valley' : ''), \
     for [i=0:2] data.'/rt/'.o(i).'.suggest' using 7:(0.4) with points linetype lt(i) pointtype 13 pointsize 1.3 title (i == 0 ? 'minimum/10' : ''), \
     1/0 with lines linecolor rgb c_theory dashtype 2 title 'sweep best (cosine)'
