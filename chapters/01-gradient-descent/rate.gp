# Figure 1.2: the measured convergence rate per step against the learning rate, with
# the theory max(|1 - lr mu|, |1 - lr L|). Data: ch01-quadratic --sweep ... --rates rates.tsv.
f = data . '/rates.tsv'
stats f using 5 nooutput; mu = STATS_min
stats f using 6 nooutput; L = STATS_min
set title sprintf('Rate per step against the learning rate (μ = %g, L = %g)', mu, L)
set xlabel 'learning rate'
set ylabel '|x_{k+1}| / |x_k|'
set xrange [0:*]
set yrange [0.6:1.45]
set key top center
set arrow from 2.0/L, graph 0 to 2.0/L, graph 1 nohead linecolor rgb c_large dashtype 3
set label '2/L' at 2.0/L, graph 0.05 offset 0.5, 0 textcolor rgb c_large
set arrow from 2.0/(mu+L), graph 0 to 2.0/(mu+L), graph 1 nohead linecolor rgb c_right dashtype 3
set label '2/(μ+L)' at 2.0/(mu+L), graph 0.05 offset -7, 0 textcolor rgb c_right
set arrow from graph 0, first 1 to graph 1, first 1 nohead linecolor rgb '#888888' dashtype 2
plot f using 1:2 with lines linetype 6 title 'theory: max |1 − lr λ|', \
     f using 1:(strcol(4) eq 'diverged' ? NaN : $3) with points pointtype 7 pointsize 0.5 linecolor rgb c_right title 'measured: converged', \
     f using 1:(strcol(4) eq 'diverged' ? $3 : NaN) with points pointtype 7 pointsize 0.5 linecolor rgb c_large title 'measured: diverged'
