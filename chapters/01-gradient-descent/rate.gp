# Figure 1.1: the contraction factor rho per step against the learning rate eta, measured,
# with the theory rho = max(|1 - eta mu|, |1 - eta L|). Data (the caption's command):
#   build/bin/ch01-quadratic --sweep 0.002,0.24,120 --steps 200 --tol 0 --rates build/ch01/rates.tsv
# Columns: lr rho_theory rho_measured status mu L. mu and L come from the data.
f = data . '/rates.tsv'
stats f using 5 nooutput; mu = STATS_min
stats f using 6 nooutput; L = STATS_min
set title sprintf('Contraction factor per step against the learning rate (μ = %g, L = %g)', mu, L)
set xlabel 'learning rate η'
set ylabel 'contraction factor ρ'
set xrange [0:*]
set yrange [0.6:1.45]
set key top center
set arrow from 2.0/L, graph 0 to 2.0/L, graph 1 nohead linecolor rgb c_large dashtype 3
set label 'η = 2/L' at 2.0/L, graph 0.05 offset 0.5, 0 textcolor rgb c_large
set arrow from 2.0/(mu+L), graph 0 to 2.0/(mu+L), graph 1 nohead linecolor rgb c_right dashtype 3
set label 'η = 2/(μ+L)' at 2.0/(mu+L), graph 0.05 offset -9.5, 0 textcolor rgb c_right
set arrow from graph 0, first 1 to graph 1, first 1 nohead linecolor rgb '#888888' dashtype 2
set label 'ρ = 1' at graph 0.92, first 1 offset 0, 0.6 textcolor rgb '#666666'
plot f using 1:2 with lines linetype 6 title 'theory: ρ = max_i |1 − ηλ_i|', \
     f using 1:(strcol(4) eq 'diverged' ? NaN : $3) with points pointtype 7 pointsize 0.5 linecolor rgb c_right title 'measured, ρ ≤ 1', \
     f using 1:(strcol(4) eq 'diverged' ? $3 : NaN) with points pointtype 7 pointsize 0.5 linecolor rgb c_large title 'measured, ρ > 1: |θ_t| grows'
