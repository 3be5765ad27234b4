# exp-wsd-curves: validation loss against the step, every seed (thin lines): cosine runs,
# one per budget, each from scratch (red); ONE stable run at the peak lr (grey) and its
# WSD cooldowns (20 % of each budget, 1-sqrt shape) branched off it (green).
# Data: exp-wsd-train --curves (arm budget frac seed step lr val_loss), one block per run,
# files curves-0.tsv, curves-1.tsv, ... in the results directory.
files = system('ls ' . data . '/curves-*.tsv')
set title sprintf('WSD branched from one stable run against cosine per budget (%d seeds)', words(files))
set xlabel 'step'
set ylabel 'validation loss (nats per byte)'
stats word(files, 1) using 2 nooutput; bmax = STATS_max
set xrange [bmax / 10:bmax * 1.02]
set key top right
is(a, f) = (strcol(1) eq a && abs($3 - f) < 1e-9)
plot for [F in files] F using 5:(is('stable', 0) ? $7 : 1/0) with lines linecolor rgb c_faint linewidth 1.2 dashtype solid notitle, \
     for [F in files] F using 5:(is('cos', 0.1) ? $7 : 1/0) with lines linecolor rgb c_large linewidth 1 dashtype solid notitle, \
     for [F in files] F using 5:(is('wsd', 0.2) ? $7 : 1/0) with lines linecolor rgb c_right linewidth 1 dashtype solid notitle, \
     NaN with lines linecolor rgb c_faint linewidth 2 dashtype solid title 'stable: warmup, then constant', \
     NaN with lines linecolor rgb c_large linewidth 2 dashtype solid title 'cosine to 10 % of the peak, one run per budget', \
     NaN with lines linecolor rgb c_right linewidth 2 dashtype solid title 'WSD: 20 % 1-sqrt cooldown, branched'
