# Figure 1.3: loss against step on a log scale. Data: ch01-quadratic --lr ... --out losses.tsv.
set title 'Loss per step: a straight line on a log scale is a constant rate'
set xlabel 'step'
set ylabel 'f(x_k)'
set logscale y
set format y '10^{%L}'
set yrange [1e-30:1e6]
set key bottom left
f = data . '/losses.tsv'
plot f every :::0::0 using 3:6 with lines linetype 1 title 'lr = 0.02', \
     f every :::1::1 using 3:6 with lines linetype 4 title 'lr = 0.1 = 1/L', \
     f every :::2::2 using 3:6 with lines linetype 2 title 'lr = 0.1818 ≈ 2/(μ+L)', \
     f every :::3::3 using 3:6 with lines linetype 5 title 'lr = 0.199, just below 2/L', \
     f every :::4::4 using 3:6 with lines linetype 3 title 'lr = 0.201, just above 2/L'
