# Figure 1.2: gradient descent on f(θ) = 1/2 θ^T A θ from one start with three learning
# rates. Data (the caption's command):
#   build/bin/ch01-quadratic --out build/ch01/traj.tsv --contours build/ch01/contours.tsv
# traj.tsv columns: run lr step theta1 theta2 loss mu L rho (one block per learning rate).
# Every number in the legend comes from the data, so it cannot disagree with the run.
traj = data . '/traj.tsv'
do for [i=0:2] {
    stats traj every :::i::i using 2 nooutput; lr = STATS_min
    stats traj every :::i::i using 7 nooutput; mu = STATS_min
    stats traj every :::i::i using 8 nooutput; L = STATS_min
    stats traj every :::i::i using 9 nooutput; rho = STATS_min
    best = abs(lr * (mu + L) - 2) < 1e-4 ? ' = 2/(μ+L)' : ''
    fate = rho > 1 ? ': grows' : ''
    eval sprintf('title%d = "η = %.4g%s (ηL = %.3g): ρ = %.3g%s"', i, lr, best, lr * L, rho, fate)
}
set title 'Gradient descent on a quadratic: one start, three learning rates'
set xlabel 'θ_1'
set ylabel 'θ_2'
set size ratio -1
set xrange [-11:11]
set yrange [-6:6]
set key top left
plot data . '/contours.tsv' using 2:3 with lines linecolor rgb c_faint linewidth 1 title 'level sets of f', \
     traj every :::0::0 using 4:5 with linespoints linetype 1 title title0, \
     traj every :::1::1 using 4:5 with linespoints linetype 2 title title1, \
     traj every :::2::2 using 4:5 with linespoints linetype 3 title title2, \
     traj using 4:($1 == 0 && $3 == 0 ? $5 : NaN) with points pointtype 4 pointsize 2 linecolor rgb c_theory title 'start θ_0', \
     traj using (0):($1 == 0 && $3 == 0 ? 0 : NaN) with points pointtype 2 pointsize 2 linecolor rgb c_theory title 'minimum θ* = 0'
