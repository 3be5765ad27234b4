# Figure 5.1: the size of Adam's update per coordinate, |w_new - w_old| / lr, in the first
# steps of a real run: median and 10%-90% band over the coordinates.
# Data: ch05-adamsteps --out steps.tsv (columns step lr loss p10 median p90 frac_at_lr rel_W..).
f = data . '/steps.tsv'
stats f using 2 nooutput; lr = STATS_min
set title sprintf("Adam's update per coordinate, in units of lr (lr = %g, constant)", lr)
set xlabel 'step'
set ylabel '|update| / lr'
set logscale xy
set xrange [1:*]
s = data . '/sparse.tsv'
stats s using ((strcol(1) eq 'sparse') ? $4 : NaN) nooutput; spmax = STATS_max
set yrange [1e-3:8]
set format y '10^{%L}'
set key outside below horizontal
set arrow from graph 0, first 1 to graph 1, first 1 nohead linecolor rgb c_theory dashtype 2
set label "lr · sign(g): Adam's first step, in every coordinate" at first 1.2, first 1.35 textcolor rgb c_theory
set arrow from graph 0, first spmax to graph 1, first spmax nohead linecolor rgb c_large dashtype 3
set label sprintf('%.2f lr: one gradient after a long stretch of zeros (ch05-sparse)', spmax) at first 1.2, first spmax * 1.3 textcolor rgb c_large
plot f using 1:4:6 with filledcurves fillcolor rgb '#c6dbef' fillstyle solid 0.8 title '10% to 90% of the coordinates', \
     f using 1:5 with lines linetype 1 title 'median', \
     f using 1:7 with lines linetype 3 linewidth 1.5 title 'fraction of coordinates within 1% of lr'
