# Figure 1.3: loss against step on a log scale. Data (the caption's command):
#   build/bin/ch01-quadratic --lr 0.02,0.1,0.181818,0.199,0.201 --steps 150 --tol 0 --out build/ch01/losses.tsv
# Columns: run lr step theta1 theta2 loss mu L rho; the legend is read off them.
set title 'Loss per step: a straight line on a log scale is a constant factor per step'
set xlabel 'step t'
set ylabel 'f(θ_t)'
set logscale y
set format y '10^{%L}'
set yrange [1e-30:1e6]
set key bottom left
f = data . '/losses.tsv'
do for [i=0:4] {
    stats f every :::i::i using 2 nooutput; lr = STATS_min
    stats f every :::i::i using 8 nooutput; L = STATS_min
    stats f every :::i::i using 9 nooutput; rho = STATS_min
    eval sprintf('title%d = "η = %g (ηL = %.4g): ρ^2 = %.4g"', i, lr, lr * L, rho**2)
}
plot f every :::0::0 using 3:6 with lines linetype 1 title title0, \
     f every :::1::1 using 3:6 with lines linetype 4 title title1, \
     f every :::2::2 using 3:6 with lines linetype 2 title title2, \
     f every :::3::3 using 3:6 with lines linetype 5 title title3, \
     f every :::4::4 using 3:6 with lines linetype 3 title title4
