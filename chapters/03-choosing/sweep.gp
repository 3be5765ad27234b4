# Figure 3.1: final validation loss (top) and accuracy (bottom) against the learning rate
# for three optimizers and two schedules; line: the median over seeds, band: the lowest
# to the highest seed; crosses at the top: lrs where at least one seed diverged.
# Data: ch03-summary --curves curves.tsv (one block per optimizer and schedule; the
# legend is each block's name column, the number of seeds its n_ok + n_diverged).
height = 760
load 'figures/style.gp'
f = data . '/curves.tsv'
blocks = int(system(sprintf("awk -F'\\t' 'NF && !/^#/ && $1 != \"optim\" && !seen[$3]++ {n++} END {print n}' %s", f)))
nseeds = int(system(sprintf("awk -F'\\t' 'NF && !/^#/ && $1 != \"optim\" {s = $5 + $6; if (s > m) m = s} END {print m}' %s", f)))
name(i) = system(sprintf("awk -F'\\t' 'NF && !/^#/ && $1 != \"optim\" && !seen[$3]++ {print $3}' %s | sed -n %dp | tr _ ' '", f, i + 1))
lt(i) = (i / 2) == 0 ? 1 : (i / 2) == 1 ? 2 : 4
dt(i) = i % 2 == 0 ? 2 : 1
lo = real(system(sprintf("awk -F'\\t' 'NF && !/^#/ && $1 != \"optim\" && (m == \"\" || $4 < m) {m = $4} END {print m}' %s", f)))
set logscale x
set format x '10^{%T}'
set xrange [lo:1]
set multiplot layout 2, 1 title sprintf('Two epochs on 5000 images; %d seeds per point; dashed: constant lr, solid: cosine', nseeds)
set key top left font ',10'
set ylabel 'validation loss'
set yrange [0:2.6]
plot for [i=0:blocks-1] f every :::i::i using 4:8:9 with filledcurves linetype lt(i) fillstyle transparent solid 0.12 noborder notitle, \
     for [i=0:blocks-1] f every :::i::i using 4:7 with linespoints linetype lt(i) dashtype dt(i) pointsize 0.6 title name(i), \
     for [i=0:blocks-1] f every :::i::i using 4:($6 > 0 ? 2.5 : 1/0) with points linetype lt(i) pointtype 2 pointsize 1.5 notitle
set ylabel 'validation accuracy (%)'
set xlabel 'learning rate'
set yrange [0:100]
set key bottom left font ',10'
plot for [i=0:blocks-1] f every :::i::i using 4:11:12 with filledcurves linetype lt(i) fillstyle transparent solid 0.12 noborder notitle, \
     for [i=0:blocks-1] f every :::i::i using 4:10 with linespoints linetype lt(i) dashtype dt(i) pointsize 0.6 notitle, \
     for [i=0:blocks-1] f every :::i::i using 4:($6 > 0 ? 95 : 1/0) with points linetype lt(i) pointtype 2 pointsize 1.5 title (i == blocks - 1 ? 'a seed diverged' : '')
unset multiplot
