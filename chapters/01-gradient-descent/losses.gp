# Figure 1.3: loss against step on a log scale. Data: ch01-quadratic --lr ... --out losses.tsv.
set title 'Loss per step: a straight line on a log scale is a constant rate'
set xlabel 'step'
set ylabel 'f(x_k)'
set logscale y
set format y '10^{%L}'
set yrange [1e-30:1e6]
set key bottom left
f = data . '/losses.tsv'
do for [i=0:4] { stats f every :::i::i using 2 nooutput; eval sprintf('lr%d = STATS_min', i) }
plot f every :::0::0 using 3:6 with lines linetype 1 title sprintf('lr = %g', lr0), \
     f every :::1::1 using 3:6 with lines linetype 4 title sprintf('lr = %g = 1/L', lr1), \
     f every :::2::2 using 3:6 with lines linetype 2 title sprintf('lr = %g ≈ 2/(μ+L)', lr2), \
     f every :::3::3 using 3:6 with lines linetype 5 title sprintf('lr = %g, just below 2/L', lr3), \
     f every :::4::4 using 3:6 with lines linetype 3 title sprintf('lr = %g, just above 2/L', lr4)
