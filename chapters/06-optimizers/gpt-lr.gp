# Figure 6.8a: the small GPT's validation loss against the peak lr, one curve per arm:
# the median over seeds (line) and the range from the best to the worst seed (band),
# with the unigram baseline (a model that ignores the context) for reference.
# Data: ch06-gpt --from ... --grid (arm lr median min max runs diverged unigram), one block
# per arm in the order of gpt.mk's GPTARMS06: cos95 cos999 nowu95 const95 b2 sgd8 sgd2.
g = data . '/gpt-grid.tsv'
stats g using 8 nooutput; unigram = STATS_max
stats g using 6 nooutput; seeds = STATS_max
set title sprintf('A small GPT on fortunes: validation loss after the same bytes (%d seeds: median and range)', seeds)
set logscale x
set format x '10^{%L}'
set xrange [5e-5:0.8]
set xlabel 'peak learning rate'
set ylabel 'validation loss (nats per byte)'
set yrange [2.6:*]
height = 600
set bmargin 7
set key outside below horizontal maxcols 3
set style fill transparent solid 0.18 noborder
plot g index 0 using 2:4:5 with filledcurves linecolor rgb c_right notitle, \
     g index 0 using 2:3 with linespoints linetype 2 title "AdamW, warmup + cosine, β2 0.95, batch 8", \
     g index 1 using 2:4:5 with filledcurves linecolor rgb c_small notitle, \
     g index 1 using 2:3 with linespoints linetype 1 title "warmup + cosine, β2 0.999", \
     g index 2 using 2:4:5 with filledcurves linecolor rgb c_large notitle, \
     g index 2 using 2:3 with linespoints linetype 3 title "cosine, no warmup", \
     g index 3 using 2:3:4:5 with yerrorbars linetype 4 pointtype 5 title "warmup + constant", \
     g index 4 using 2:4:5 with filledcurves linecolor rgb c_extra notitle, \
     g index 4 using 2:3 with linespoints linetype 5 title "AdamW, batch 2, 4 times the steps", \
     g index 5 using 2:4:5 with filledcurves linecolor rgb c_other notitle, \
     g index 5 using 2:3 with linespoints linetype 4 dashtype 2 title "SGD, momentum 0.9, batch 8", \
     g index 6 using 2:4:5 with filledcurves linecolor rgb c_faint notitle, \
     g index 6 using 2:3 with linespoints linecolor rgb '#555555' dashtype 2 title "SGD, momentum 0.9, batch 2", \
     unigram with lines linetype 6 title sprintf("unigram baseline (%.2f)", unigram)
