# Figure 7.2: SGD (momentum 0.9) at lr 0.8 and 0.7 on a 784-256-256-10 MLP, without and
# with back-off, 5 seeds each, one panel per setting. Markers: the back-off events (at
# the step and loss where they were detected) and the ends of the runs that died (at
# the loss of their last logged window).
# Data: ch07-fit logs (plain08.tsv, ...), events (events-backoff08.tsv, ...) and one row
# per seed (runs-plain08.tsv, ...).
height = 820
width = 900
load 'figures/style.gp'
d(n) = data . '/' . n . '.tsv'
ev(n) = data . '/events-' . n . '.tsv'
rn(n) = data . '/runs-' . n . '.tsv'
set multiplot layout 2, 2 title 'A too-high learning rate, 5 seeds: the plain runs die, the back-off runs roll back and go on'
set key top right font ',9' spacing 1.0
set xrange [0:240]
set logscale y
set yrange [0.3:*]
set ytics (0.3, 1, 2.3, 10, 100, 1000, 10000, 100000)
is(s, k) = (s eq k)
do for [p in 'plain08 backoff08 plain07 backoff07'] {
    set title (p eq 'plain08' ? 'lr 0.8, no back-off' : p eq 'backoff08' ? 'lr 0.8, back-off' : \
               p eq 'plain07' ? 'lr 0.7, no back-off' : 'lr 0.7, back-off')
    set xlabel 'update'
    set ylabel 'training loss'
    plot d(p) using 2:5:($1 - $1 + 1) with lines linecolor rgb c_small linewidth 1.2 title 'each seed', \
         (p[1:3] eq 'bac' ? ev(p) : d(p)) using (p[1:3] eq 'bac' && is(strcol(2), 'spike') ? $3 : 1/0):4 \
             with points pointtype 2 pointsize 1.6 linecolor rgb c_large title 'spike: back-off', \
         (p[1:3] eq 'bac' ? ev(p) : d(p)) using (p[1:3] eq 'bac' && is(strcol(2), 'collapse') ? $3 : 1/0):4 \
             with points pointtype 6 pointsize 1.6 linecolor rgb c_other title 'collapse: back-off', \
         rn(p) using (is(strcol(2), 'diverged') ? $22 : 1/0):23 with points pointtype 1 pointsize 2 \
             linecolor rgb c_theory title 'diverged (stopped)', \
         rn(p) using (is(strcol(2), 'collapsed') ? $22 : 1/0):23 with points pointtype 4 pointsize 1.6 \
             linecolor rgb c_theory title 'collapsed (stopped)', \
         rn(p) using (is(strcol(2), 'gave_up') ? $22 : 1/0):23 with points pointtype 3 pointsize 1.8 \
             linecolor rgb c_extra title 'gave up'
}
unset multiplot
