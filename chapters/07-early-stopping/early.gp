# Figure 7.1: 1000 training images, 60 epochs, never stopped ("full"), 5 seeds: the
# median over the seeds (lines) and their range (bands); per seed, the best epoch and
# where early stopping on val_loss (patience 5) and on val_acc (patience 10) fire.
# Data: ch07-fit's bands (bands-full.tsv) and one row per seed (runs-full.tsv).
height = 760
load 'figures/style.gp'
b = data . '/bands-full.tsv'
r = data . '/runs-full.tsv'
set multiplot layout 2, 1 title 'Overfitting 1000 images, 5 seeds: the validation loss turns, early stopping watches it'
# the same plotting area in both panels, so that their epoch axes line up
set lmargin at screen 0.09
set rmargin at screen 0.66
set key outside right top font ',10'
set xrange [0:60]
set style fill transparent solid 0.25 noborder
set ylabel 'loss'
set logscale y
set format x ''
plot b using 2:5:6 with filledcurves linecolor rgb c_small notitle, \
     b using 2:8:9 with filledcurves linecolor rgb c_large notitle, \
     b using 2:14:15 with filledcurves linecolor rgb c_extra notitle, \
     b using 2:4 with lines linetype 1 title 'training (median, range)', \
     b using 2:7 with lines linetype 3 title 'validation', \
     b using 2:13 with lines linetype 5 title 'test', \
     r using 26:12 with points pointtype 7 pointsize 1.1 linecolor rgb c_right title 'best val loss (each seed)', \
     r using 25:28 with points pointtype 9 pointsize 1.2 linecolor rgb c_theory title 'stop, val loss pat. 5 (at test loss)', \
     r using 33:36 with points pointtype 5 pointsize 0.9 linecolor rgb c_other title 'stop, val acc pat. 10 (at test loss)'
unset logscale y
set format x '%g'
set ylabel 'accuracy (%)'
set xlabel 'epoch'
set yrange [60:*]
plot b using 2:11:12 with filledcurves linecolor rgb c_large notitle, \
     b using 2:17:18 with filledcurves linecolor rgb c_extra notitle, \
     b using 2:10 with lines linetype 3 title 'validation (median, range)', \
     b using 2:16 with lines linetype 5 title 'test (median, range)', \
     r using 34:39 with points pointtype 5 pointsize 0.9 linecolor rgb c_other title 'best val acc (at test acc)'
unset multiplot
