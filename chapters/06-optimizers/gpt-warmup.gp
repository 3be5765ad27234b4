# Figure 6.8b: the small GPT's training loss at every step, every seed, with a linear
# warmup then cosine (green) and with the cosine alone from step 0 (red), at two peak lrs.
# Data: ch06-gpt --curves (arm lr seed step lr_t loss), one block per run.
height = 620
f(arm, lr) = data . '/gpt-curves-' . arm . '-' . lr . '.tsv'
stats f('cos95', '0.1') using 4 nooutput; steps = STATS_max + 1
set multiplot layout 2,1 title sprintf('Training loss of every seed, %d steps (AdamW, β2 = 0.95)', steps)
stats f('cos95', '0.1') using 6 every ::0::0 nooutput; first = STATS_max
set xlabel 'minibatch (1 = the first; log scale)'
set ylabel 'training loss (one minibatch)'
set logscale x
set xrange [1:steps]
set logscale y
set yrange [2.5:25]
set ytics (3, 4, 5, 7, 10, 15, 20)
set arrow from 25, graph 0 to 25, graph 1 nohead linecolor rgb c_right dashtype 3
set label 'warmup ends' at 25, graph 0.92 offset 0.5, 0 textcolor rgb c_right
set key outside right vertical
set rmargin 30
do for [lr in '0.1 0.316'] {
    set title sprintf('peak lr %s', lr)
    plot f('nowu95', lr) using ($4+1):6 with lines linecolor rgb c_large linewidth 0.8 title 'cosine from step 0', \
         f('cos95', lr) using ($4+1):6 with lines linecolor rgb c_right linewidth 0.8 title 'warmup, then cosine', \
         first with lines linetype 6 title 'the first step (ln V)'
}
unset multiplot
