# Figure 1.1: gradient descent on 1/2 x^T A x (mu = 1, L = 10) from the same start with
# three learning rates. Data: ch01-quadratic --out traj.tsv --contours contours.tsv.
set title 'Too small, just right, too large: gradient descent on a quadratic'
set xlabel 'x_1'
set ylabel 'x_2'
set size ratio -1
set xrange [-11:11]
set yrange [-6:6]
set key top left
traj = data . '/traj.tsv'
# the learning rates come from the data, so the legend cannot disagree with the run
do for [i=0:2] { stats traj every :::i::i using 2 nooutput; eval sprintf('lr%d = STATS_min', i) }
plot data . '/contours.tsv' using 2:3 with lines linecolor rgb c_faint linewidth 1 title 'level sets of f', \
     traj every :::0::0 using 4:5 with linespoints linetype 1 title sprintf('lr = %g (too small)', lr0), \
     traj every :::1::1 using 4:5 with linespoints linetype 2 title sprintf('lr = %.4g ≈ 2/(μ+L) (just right)', lr1), \
     traj every :::2::2 using 4:5 with linespoints linetype 3 title sprintf('lr = %g > 2/L (too large)', lr2)
