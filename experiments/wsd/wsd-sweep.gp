# exp-wsd-sweep: validation loss at the largest budget against the cooldown's share of
# the run (1-sqrt shape; 0 = no cooldown, the stable run itself): every seed (points) and
# the median (line); the linear cooldown at 20 %; cosine to 10 % and to 0 (medians,
# horizontal lines).
# Data: exp-wsd-train --grid (arm budget frac n median lo hi cost) and the seeds' --summary
# tables (arm budget frac branch cost seed val_loss).
g = data . '/grid.tsv'
runs = system('ls ' . data . '/runs-*.tsv')
stats g using 2 nooutput; bmax = STATS_max
stats g using (strcol(1) eq 'cos' && $2 == bmax ? $5 : NaN) nooutput; cosmed = STATS_max
stats g using (strcol(1) eq 'cos0' ? $5 : NaN) nooutput; cos0med = STATS_max
stats g using 4 nooutput; seeds = STATS_max
set title sprintf('Cooldown length at %d steps (%d seeds: points, median line)', bmax, seeds)
set xlabel 'cooldown (share of the run)'
set ylabel 'validation loss (nats per byte)'
set format x '%.0f %%'
set xrange [-2:42]
set key outside below horizontal maxcols 2
height = 560
sweep(a) = ((strcol(1) eq 'wsd' || strcol(1) eq 'const') && $2 == bmax ? a : NaN)
# the medians of the sweep, in order of the cooldown (the grid lists them in branch order)
set table $S
plot g using (100 * $3):5 with table if ((strcol(1) eq 'wsd' || strcol(1) eq 'const') && $2 == bmax)
unset table
plot $S using 1:2 smooth unique with linespoints linetype 2 title 'WSD, 1-sqrt: median', \
     for [F in runs] F using (sweep(100 * $3)):(sweep($7)) with points linecolor rgb c_right pointtype 7 pointsize 0.6 notitle, \
     for [F in runs] F using (strcol(1) eq 'wsdlin' ? 100 * $3 + 1 : NaN):7 with points linecolor rgb c_other pointtype 4 notitle, \
     NaN with points linecolor rgb c_other pointtype 4 title 'linear cooldown (each seed)', \
     cosmed with lines linecolor rgb c_large dashtype 2 title sprintf('cosine to 10 %% (median %.3f)', cosmed), \
     cos0med with lines linecolor rgb c_small dashtype 3 title sprintf('cosine to 0 (median %.3f)', cos0med)
