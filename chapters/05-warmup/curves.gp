# Figure 5.4: training loss at every step, Adam at a high lr, 8 seeds without warmup (red)
# and 8 with a linear warmup (green). Data: ch05-warmup --curves (warmup seed step lr loss).
a = data . '/curves-w0.tsv'
b = data . '/curves-w100.tsv'
stats b using 1 nooutput; T = STATS_max
stats b using 4 nooutput; lr = STATS_max
stats a using 2 nooutput; n0 = STATS_max - STATS_min + 1
set title sprintf('Adam at lr = %g: all %d seeds without warmup and with %d steps of warmup', lr, n0, T)
set xlabel 'step'
set ylabel 'training loss (one minibatch)'
set logscale xy
set xrange [1:*]
set autoscale xfixmax
set yrange [0.2:300]
set key outside below horizontal
set arrow from T, graph 0 to T, graph 1 nohead linecolor rgb c_right dashtype 3
set label 'warmup ends' at T, graph 0.95 offset 0.5, 0 textcolor rgb c_right
plot a using 3:5 with lines linecolor rgb c_large linewidth 1 title 'no warmup', \
     b using 3:5 with lines linecolor rgb c_right linewidth 1 title sprintf('linear warmup over %d steps', T), \
     log(10) with lines linetype 6 title 'ln 10: a uniform guess'
