# Figure 5.3: the relative error of Adam's v_hat at frozen initial weights, measured (solid)
# and predicted from the effective number of samples n_eff(t) (dashed), for three beta2.
# Data: ch05-vnoise --out vnoise.tsv (step, then rms pred neff for each beta2).
f = data . '/vnoise.tsv'
set title 'The noise of v̂: an average of n_{eff}(t) squared gradients'
set xlabel 'step t'
set ylabel 'RMS relative error of v̂_t'
set logscale xy
set xrange [1:*]
set yrange [0.05:2]
set key top right
plot f using 1:2 with lines linetype 3 title 'β_2 = 0.9', \
     f using 1:3 with lines linetype 3 linewidth 1 dashtype 2 notitle, \
     f using 1:5 with lines linetype 4 title 'β_2 = 0.99', \
     f using 1:6 with lines linetype 4 linewidth 1 dashtype 2 notitle, \
     f using 1:8 with lines linetype 1 title 'β_2 = 0.999', \
     f using 1:9 with lines linetype 1 linewidth 1 dashtype 2 notitle, \
     NaN with lines linetype 6 title 'predicted: CV √(1/n_{eff}(t) + 1/n_{ref})'
