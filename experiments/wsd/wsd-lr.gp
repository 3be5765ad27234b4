# exp-wsd-lr: validation loss at 1200 steps against the peak learning rate, cosine to
# 10 % and WSD (20 % 1-sqrt cooldown): every seed (points) and the median (line).
# Data: exp-wsd-best --grid (lr mult arm seed val_loss): one row per peak, schedule and
# seed, then one per peak and schedule with seed "median". The seeds' points are shifted
# a little left (cosine) and right (WSD) of their peak so that they do not overlap.
g = data . '/best.tsv'
stats g using 4 nooutput; seeds = STATS_max - STATS_min + 1
set title sprintf('Peak learning rate at 1200 steps (%d seeds: points, median line)', seeds)
set xlabel 'peak learning rate (times the main peak, 3.16e-3)'
set ylabel 'validation loss (nats per byte)'
set logscale x 2
set xrange [0.4:20]
set key top center
height = 560
# the medians, one table per schedule (the grid lists them after the seeds' rows)
set table $C
plot g using 2:5 with table if (strcol(3) eq 'cos' && strcol(4) eq 'median')
set table $W
plot g using 2:5 with table if (strcol(3) eq 'wsd' && strcol(4) eq 'median')
unset table
each(arm, y) = (strcol(3) eq arm && strcol(4) ne 'median' ? y : NaN)
plot $C using 1:2 with linespoints linetype 3 title 'cosine to 10 %: median', \
     g using (each('cos', $2 / 1.04)):(each('cos', $5)) with points linetype 3 pointtype 6 notitle, \
     $W using 1:2 with linespoints linetype 2 title 'WSD, 20 % 1-sqrt: median', \
     g using (each('wsd', $2 * 1.04)):(each('wsd', $5)) with points linetype 2 pointtype 6 notitle
