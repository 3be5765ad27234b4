# Figure 5.2: the distribution of |update| / lr over all coordinates at a few steps.
# Data: ch05-adamsteps --hist hist.tsv (blocks: step lo hi fraction, 0.1-decade bins).
f = data . '/hist.tsv'
do for [i=0:3] { stats f every :::i::i using 1 nooutput; eval sprintf('s%d = STATS_min', i) }
set title 'How far each coordinate moves: step 1 is lr · sign(g) for (almost) all of them'
set xlabel '|update| / lr'
set ylabel 'fraction of coordinates (per 0.1 decade)'
set logscale x
set format x '10^{%L}'
set xrange [1e-4:3]
set yrange [0:*]
set key top left
plot f every :::0::0 using 2:4 with steps linetype 3 title sprintf('step %d', s0), \
     f every :::1::1 using 2:4 with steps linetype 4 title sprintf('step %d', s1), \
     f every :::2::2 using 2:4 with steps linetype 2 title sprintf('step %d', s2), \
     f every :::3::3 using 2:4 with steps linetype 1 title sprintf('step %d', s3)
