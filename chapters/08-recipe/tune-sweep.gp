# Figure 8.10a: the capstone. The full sweep of the small GPT (width 16): the validation
# loss of every seed at every peak lr (points) and their median (line); the recipe's
# own short sweep (its medians, large circles: the same runs, so they sit on the line);
# vertical lines at lrtune's recommendation and at the full sweep's best.
# Data: lrtune's summary.tsv (lr runs diverged median min max) of both directories,
# the full sweep's sweep.tsv (lib/sweep.h: lr in column 2, status 6, val_loss 9), and
# ch08-tune-compare's marks (what lr).
full = data . '/tune-full/summary.tsv'
runs = data . '/tune-full/sweep.tsv'
recipe = data . '/tune-recipe/summary.tsv'
marks = data . '/tune-marks.tsv'
stats marks using (strcol(1) eq 'recipe' ? $2 : 1/0) nooutput; lr_recipe = STATS_max
stats marks using (strcol(1) eq 'full' ? $2 : 1/0) nooutput; lr_full = STATS_max
stats full using 2 nooutput; seeds = STATS_max
set title sprintf('A GPT no chapter tuned (width 16): lrtune against a full sweep (%d seeds each)', seeds)
set logscale x
set format x '10^{%L}'
set xlabel 'peak learning rate (AdamW, warmup + cosine)'
set ylabel 'validation loss after the budget (nats per byte)'
set key top right
set arrow 1 from lr_recipe, graph 0 to lr_recipe, graph 1 nohead linecolor rgb c_right dashtype 2 linewidth 2
set arrow 2 from lr_full, graph 0 to lr_full, graph 1 nohead linecolor rgb c_theory dashtype 3 linewidth 2
plot runs using 2:(strcol(6) eq 'ok' ? $9 : 1/0) with points pointtype 7 pointsize 0.5 linecolor rgb c_faint title 'a seed (full sweep)', \
     full using 1:4 with lines linecolor rgb c_theory title 'full sweep: median', \
     recipe using 1:4 with points pointtype 6 pointsize 1.8 linewidth 2 linecolor rgb c_right title "lrtune's sweep: median", \
     NaN with lines linecolor rgb c_right dashtype 2 linewidth 2 title sprintf("lrtune's lr (%g)", lr_recipe), \
     NaN with lines linecolor rgb c_theory dashtype 3 linewidth 2 title sprintf("full sweep's best (%g)", lr_full)
