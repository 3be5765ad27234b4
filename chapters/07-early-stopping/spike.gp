# Figure 7.2: SGD (momentum 0.9) at lr 0.8 and 0.7 on a 784-256-256-10 MLP, without
# and with back-off; crosses mark the spikes that triggered a back-off.
# Data: ch07-fit logs (plain08.tsv, ...) and back-off events (events-backoff08.tsv, ...).
height = 720
load 'figures/style.gp'
d(n) = data . '/' . n . '.tsv'
set multiplot layout 2, 1 title 'A too-high learning rate: the plain runs die, the back-off runs roll back and go on'
set key outside right top font ',11'
set xrange [0:474]
set ylabel 'training loss'
set logscale y
set yrange [0.2:30]
plot d('plain08') using 1:4 with lines linetype 3 title 'lr 0.8', \
     d('backoff08') using 1:4 with lines linetype 2 title 'lr 0.8, back-off', \
     d('plain07') using 1:4 with lines linetype 4 title 'lr 0.7', \
     d('backoff07') using 1:4 with lines linetype 1 title 'lr 0.7, back-off', \
     d('events-backoff08') using 1:2 with points pointtype 2 pointsize 1.5 linecolor rgb c_right title 'spike', \
     d('events-backoff07') using 1:2 with points pointtype 2 pointsize 1.5 linecolor rgb c_small notitle
unset logscale y
set yrange [0:0.9]
set ylabel 'learning rate'
set xlabel 'update'
plot d('backoff08') using 1:3 with steps linetype 2 title 'lr 0.8, back-off', \
     d('backoff07') using 1:3 with steps linetype 1 title 'lr 0.7, back-off'
unset multiplot
