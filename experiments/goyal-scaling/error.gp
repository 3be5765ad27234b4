# Goyal et al. 2017, Figure 1 analogue: the test error after the same number of epochs
# against the minibatch size, with the lr proportional to the batch; median over seeds,
# bars from the lowest to the highest seed. A run stopped by the divergence rule counts
# as chance (90 %). Data: exp-goyal-scaling --summary (batch lr warmup_epochs steps
# err_median err_min err_max stopped; one block per warmup), summary.tsv (no warmup
# and warmup) and summary-low.tsv (the 8 times lower lr, warmup).
width = 860
f = data . '/summary.tsv'
g = data . '/summary-low.tsv'
stats f using (256 * $2 / $1) nooutput; lr_a = STATS_max
stats g using (256 * $2 / $1) nooutput; lr_b = STATS_max
stats f using 3 nooutput; wu = STATS_max
set title 'Test error after the same number of epochs, lr proportional to the batch B (median, bars: range over seeds)'
set logscale x 2
set format x '%.0f'
set xlabel 'minibatch size B'
set ylabel 'test error (%)'
set yrange [0:100]
set key at graph 0.02, graph 0.82 left top
plot f using 1:($3 == 0 ? 100*$5 : NaN):(100*$6):(100*$7) with yerrorlines linetype 3 \
       title sprintf('lr %g·B/256, no warmup', lr_a), \
     f using 1:($3 > 0 ? 100*$5 : NaN):(100*$6):(100*$7) with yerrorlines linetype 2 \
       title sprintf('lr %g·B/256, warmup %g epoch', lr_a, wu), \
     g using 1:(100*$5):(100*$6):(100*$7) with yerrorlines linetype 1 \
       title sprintf('lr %g·B/256, warmup %g epoch', lr_b, wu), \
     90 with lines dashtype 2 linecolor rgb c_faint title 'chance (stopped runs)'
