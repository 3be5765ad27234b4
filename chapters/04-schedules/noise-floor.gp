# Figure 4.1: SGD on the noisy quadratic lambda x^2 / 2: each constant lr levels off at
# its noise floor (dashed: the closed form), the 1/t schedule keeps going down (dashed:
# its exact expectation), and so does the inverse square root, more slowly. Legends from
# the data. Data: ch04-noise --out noise.tsv (see rules.mk).
set title 'A constant learning rate stalls at a noise floor; a decaying one does not'
set xlabel 'step'
set ylabel 'mean loss over the chains'
set logscale xy
set format y '10^{%L}'
set format x '10^{%L}'
set xrange [1:*]
set key bottom left
f = data . '/noise.tsv'
do for [i=0:3] { stats f every :::i::i using 3 nooutput; eval sprintf('lr%d = STATS_min', i) }
label(i) = system(sprintf("awk -F'\t' '!/^#/ && $1 == \"%d\" {print $2; exit}' %s", i, f))
stats f every :::4::4 using 3 nooutput; lr0_decay = STATS_min
stats f every :::5::5 using 3 nooutput; base5 = STATS_min
lt(i) = i == 0 ? 3 : i == 1 ? 4 : i == 2 ? 2 : 1
x = '($4 > 0 ? $4 : NaN)'
plot for [i=0:3] f every :::i::i using @x:6 with lines linetype lt(i) \
       title sprintf('constant lr = %g', value(sprintf('lr%d', i))), \
     for [i=0:3] f every :::i::i using @x:8 with lines linetype lt(i) linewidth 1 dashtype 2 notitle, \
     f every :::4::4 using @x:6 with lines linetype 5 title sprintf('lr_t = %g / (1 + t/t_0)', lr0_decay), \
     f every :::4::4 using @x:7 with lines linetype 6 title 'its exact expectation', \
     f every :::5::5 using @x:6 with lines linecolor rgb '#8c564b' linewidth 2 \
       title sprintf('%s, base %g', label(5), base5) noenhanced, \
     f every :::5::5 using @x:7 with lines linetype 6 notitle
