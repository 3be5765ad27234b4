# Figure 8.10b: the capstone's range test (fastai's lr_find, Chapter 3): the smoothed
# training loss as the lr grows exponentially, one seed, with fastai's suggestions
# (valley, steep), the lr at the lowest smoothed loss, and the span of lrs lrtune then
# swept (shaded).
# Data: lrtune's range.tsv (step lr loss smooth_loss) and ch08-tune-compare's marks.
r = data . '/tune-recipe/range.tsv'
marks = data . '/tune-marks.tsv'
stats marks using (strcol(1) eq 'valley' ? $2 : 1/0) nooutput; valley = STATS_max
stats marks using (strcol(1) eq 'steep' ? $2 : 1/0) nooutput; steep = STATS_max
stats marks using (strcol(1) eq 'min_lr' ? $2 : 1/0) nooutput; min_lr = STATS_max
stats marks using (strcol(1) eq 'grid_lo' ? $2 : 1/0) nooutput; lo = STATS_max
stats marks using (strcol(1) eq 'grid_hi' ? $2 : 1/0) nooutput; hi = STATS_max
stats r using 3 nooutput; low = STATS_min
stats r using ($1 == 0 ? $4 : 1/0) nooutput; first = STATS_max   # step 0
set yrange [low - 0.2 * (first - low) : first + 0.6 * (first - low)]   # the blow-up at the end is cut off
set title 'The range test of the same GPT: where lrtune looks'
set logscale x
set format x '10^{%L}'
set xlabel 'learning rate (grows every step)'
set ylabel 'training loss (nats per byte)'
set key top left
set object 1 rectangle from lo, graph 0 to hi, graph 1 fillcolor rgb c_right fillstyle transparent solid 0.12 noborder behind
set arrow 1 from valley, graph 0 to valley, graph 1 nohead linecolor rgb c_small dashtype 2
set arrow 2 from steep, graph 0 to steep, graph 1 nohead linecolor rgb c_other dashtype 2
set arrow 3 from min_lr, graph 0 to min_lr, graph 1 nohead linecolor rgb c_large dashtype 2
plot r using 2:3 with lines linecolor rgb c_faint title 'loss of each batch', \
     r using 2:4 with lines linetype 2 title 'smoothed (β 0.98)', \
     NaN with lines linecolor rgb c_small dashtype 2 title sprintf('valley (%.2g)', valley), \
     NaN with lines linecolor rgb c_other dashtype 2 title sprintf('steep (%.2g)', steep), \
     NaN with lines linecolor rgb c_large dashtype 2 title sprintf('lowest smoothed loss (%.2g)', min_lr), \
     NaN with lines linecolor rgb c_right linewidth 8 title "swept by lrtune (shaded)"
