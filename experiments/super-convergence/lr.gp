# Smith & Topin 2019: final test accuracy against the lr (the peak lr for one cycle) for
# one cycle and the step schedule at the same budget and the step schedule at a longer
# one; median over seeds, bars from the lowest to the highest seed (a stopped run counts
# as chance, 10 %). Data: exp-sc-train --summary (regime lr steps acc_median acc_min
# acc_max stopped best; one block per regime).
width = 860
f = data . '/summary.tsv'
sel(r) = strcol(1) eq r
stats f using (sel('onecycle') ? $3 : NaN) nooutput; B = STATS_max
stats f using (sel('step-long') ? $3 : NaN) nooutput; L = STATS_max
set title 'Final test accuracy against the lr (median, bars: range over seeds)'
set logscale x 10
set xlabel 'lr (one cycle: its peak)'
set ylabel 'test accuracy (%)'
set yrange [0:100]
set key bottom left
plot f using 2:(sel('onecycle') ? 100*$4 : NaN):(100*$5):(100*$6) with yerrorlines linetype 3 \
       title sprintf('one cycle, %d steps', B), \
     f using 2:(sel('step') ? 100*$4 : NaN):(100*$5):(100*$6) with yerrorlines linetype 1 \
       title sprintf('step schedule, %d steps', B), \
     f using 2:(sel('step-long') ? 100*$4 : NaN):(100*$5):(100*$6) with yerrorlines linetype 2 \
       title sprintf('step schedule, %d steps', L)
