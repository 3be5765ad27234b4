# Figure 1.2: the measured convergence rate per step against the learning rate, with
# the theory max(|1 - lr mu|, |1 - lr L|). Data: ch01-quadratic --sweep ... --rates rates.tsv.
set title 'Rate per step against the learning rate (μ = 1, L = 10)'
set xlabel 'learning rate'
set ylabel '|x_{k+1}| / |x_k|'
set xrange [0:0.24]
set yrange [0.6:1.45]
set key top center
set arrow from 0.2, graph 0 to 0.2, graph 1 nohead linecolor rgb c_large dashtype 3
set label '2/L' at 0.2, graph 0.05 offset 0.5, 0 textcolor rgb c_large
set arrow from 2.0/11, graph 0 to 2.0/11, graph 1 nohead linecolor rgb c_right dashtype 3
set label '2/(μ+L)' at 2.0/11, graph 0.05 offset -7, 0 textcolor rgb c_right
set arrow from graph 0, first 1 to graph 1, first 1 nohead linecolor rgb '#888888' dashtype 2
f = data . '/rates.tsv'
plot f using 1:2 with lines linetype 6 title 'theory: max |1 − lr λ|', \
     f using 1:(strcol(4) eq 'diverged' ? NaN : $3) with points pointtype 7 pointsize 0.5 linecolor rgb c_right title 'measured: converged', \
     f using 1:(strcol(4) eq 'diverged' ? $3 : NaN) with points pointtype 7 pointsize 0.5 linecolor rgb c_large title 'measured: diverged'
