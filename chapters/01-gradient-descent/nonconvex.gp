# Figure 1.4: gradient descent on f(x) = x cos x from x0 = 2 with three learning rates.
# Data: ch01-nonconvex --out nc-traj.tsv --curve nc-curve.tsv --minima nc-minima.tsv.
set title 'A larger step cannot stay in a sharp minimum: f(x) = x cos x'
set xlabel 'x'
set ylabel 'f(x)'
set xrange [-5:7.5]
set yrange [-4.5:7]
set key top left
t = data . '/nc-traj.tsv'
do for [i=0:2] { stats t every :::i::i using 2 nooutput; eval sprintf('lr%d = STATS_min', i) }
plot data . '/nc-curve.tsv' using 1:2 with lines linecolor rgb c_faint linewidth 3 title 'f(x) = x cos x', \
     t every :::0::0 using 4:5 with linespoints linetype 1 linewidth 1 title sprintf('lr = %g', lr0), \
     t every :::1::1 using 4:5 with linespoints linetype 4 linewidth 1 title sprintf('lr = %g', lr1), \
     t every :::2::2 using 4:5 with linespoints linetype 3 linewidth 1 pointsize 0.4 title sprintf('lr = %g', lr2), \
     data . '/nc-minima.tsv' using 1:2 with points pointtype 6 pointsize 1.6 linecolor rgb c_theory title 'minima'
