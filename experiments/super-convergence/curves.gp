# Smith & Topin 2019, Figure 1a analogue: test accuracy during training for one cycle at
# its best peak lr (budget B) and the step schedule at its best lr over B and over the
# longer budget; one line per seed. Data: exp-sc-train --curves (seed regime lr step
# epoch lr_now test_acc; one block per run) and --summary (the best lr of each regime).
width = 860
f = data . '/curves.tsv'
s = data . '/summary.tsv'
best(r) = strcol(1) eq r && $8 == 1
stats s using (best('onecycle') ? $2 : NaN) nooutput; lr_oc = STATS_max
stats s using (best('step') ? $2 : NaN) nooutput; lr_st = STATS_max
stats s using (best('step-long') ? $2 : NaN) nooutput; lr_lo = STATS_max
stats s using (best('onecycle') ? $3 : NaN) nooutput; B = STATS_max
stats s using (best('step-long') ? $3 : NaN) nooutput; L = STATS_max
set title 'Test accuracy during training, each regime at its best lr (one line per seed)'
set xlabel 'step'
set ylabel 'test accuracy (%)'
set yrange [70:92]
set xrange [0:L]
set key bottom right
plot f using 4:(strcol(2) eq 'step-long' && $3 == lr_lo ? 100*$7 : NaN) with lines linetype 2 \
       title sprintf('step schedule, %d steps, lr %g', L, lr_lo), \
     f using 4:(strcol(2) eq 'step' && $3 == lr_st ? 100*$7 : NaN) with lines linetype 1 \
       title sprintf('step schedule, %d steps, lr %g', B, lr_st), \
     f using 4:(strcol(2) eq 'onecycle' && $3 == lr_oc ? 100*$7 : NaN) with lines linetype 3 \
       title sprintf('one cycle, %d steps, peak lr %g', B, lr_oc)
