# Figure 1.4: gradient descent on f(θ) = θ cos θ with three learning rates. Data (the
# caption's command):
#   build/bin/ch01-nonconvex --out build/ch01/nc-traj.tsv --curve build/ch01/nc-curve.tsv --minima build/ch01/nc-minima.tsv
# nc-traj.tsv columns: run lr step theta f; the legend (learning rate, start, where each
# run ended) is read off them.
t = data . '/nc-traj.tsv'
stats t using ($3 == 0 ? $4 : NaN) nooutput; x0 = STATS_min
set title sprintf('Gradient descent on f(θ) = θ cos θ from θ_0 = %g: three learning rates', x0)
do for [i=0:2] {
    stats t every :::i::i using 2 nooutput; lr = STATS_min
    stats t every :::i::i using (last = $4) nooutput
    eval sprintf('title%d = "η = %g: iterates, last at θ = %.3f"', i, lr, last)
}
set xlabel 'θ'
set ylabel 'f(θ)'
set xrange [-5:7.5]
set yrange [-4.5:7]
set key top left
plot data . '/nc-curve.tsv' using 1:2 with lines linecolor rgb c_faint linewidth 3 title 'f(θ) = θ cos θ', \
     t every :::0::0 using 4:5 with linespoints linetype 1 linewidth 1 title title0, \
     t every :::1::1 using 4:5 with linespoints linetype 4 linewidth 1 title title1, \
     t every :::2::2 using 4:5 with linespoints linetype 3 linewidth 1 pointsize 0.4 title title2, \
     data . '/nc-minima.tsv' using 1:2 with points pointtype 6 pointsize 1.6 linecolor rgb c_theory title 'minima of f'
