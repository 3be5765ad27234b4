# Figure 4.2: a finite horizon on the noisy quadratic. Top: the lr of each schedule;
# middle and bottom: the mean loss over the chains (solid) and its exact expectation
# (dashed) on the curvature 1/t was tuned for and on a 20 times flatter one.
# Data: ch04-noise --lr 0.5 --steps 2000 --sched ... --out horizon.tsv, flat.tsv (rules.mk).
height = 960
load 'figures/style.gp'
f = data . '/horizon.tsv'
g = data . '/flat.tsv'
stats f every :::0::0 using 3 nooutput; base = STATS_min
lambda(file) = real(system("sed -n 's/^# problem: f(x) = \\([^ ]*\\) .*/\\1/p' " . file))
set multiplot layout 3, 1 title sprintf('The same noise, the same 2000 steps, base lr %g', base)
set logscale y
set format y '10^{%L}'
set xtics 250
set key top right
lt(i) = i == 0 ? 3 : i == 1 ? 5 : i == 2 ? 1 : 2
# the legends are the curves' labels in the data (column 2 of each block's first row):
# the canonical specs the program ran
label(i) = system(sprintf("awk -F'\t' '!/^#/ && $1 == \"%d\" {print $2; exit}' %s", i, f))
name(i) = label(i) eq 'constant' ? sprintf('constant, lr %g', base) : label(i)
set title '(a) the learning rates' font ',12'
set ylabel 'learning rate'
set yrange [1e-5:1e3]
plot for [i=0:3] f every :::i::i using 4:($5 > 0 ? $5 : NaN) with lines linetype lt(i) title name(i) noenhanced
set ylabel 'mean loss'
set key top right
set yrange [1e-4:1e4]
set title sprintf('(b) curvature λ = %g (1/t suits it)', lambda(f)) font ',12'
plot for [i=0:3] f every :::i::i using 4:6 with lines linetype lt(i) linewidth 1.5 title name(i) noenhanced, \
     for [i=0:3] f every :::i::i using 4:7 with lines linetype 6 linewidth 1 notitle
set yrange [1e-2:1e4]
set title sprintf('(c) curvature λ = %g (1/t decays far too soon for it)', lambda(g)) font ',12'
set xlabel 'step'
plot for [i=0:3] g every :::i::i using 4:6 with lines linetype lt(i) linewidth 1.5 title name(i) noenhanced, \
     for [i=0:3] g every :::i::i using 4:7 with lines linetype 6 linewidth 1 notitle
unset multiplot
