# Figure 8.2: the six rows of the symptom table, one panel each: the training loss at
# every step of the broken setting (red) and of its fix (green), every seed.
# Data: ch08-symptoms --curves (recipe-CASE-curves.tsv): case arm seed step lr loss gnorm ratio,
# one block per run.
height = 780
width = 1000
load 'figures/style.gp'
f(c) = data . '/recipe-' . c . '-curves.tsv'
set multiplot layout 2, 3 title 'Each row of the table, 5 seeds: the broken setting (red) and its fix (green)'
set key top right font ',9' spacing 1.0
set logscale y
set yrange [0.2:20]
set ytics (0.3, 0.5, 1, 2.3, 5, 10)
set xlabel 'step'
set ylabel 'training loss'
array C[6] = ['nan', 'stuck', 'osc', 'plateau', 'crawl', 'spikes']
array T[6] = ['NaN/explosion: lr far too high', 'stuck at ln C: dead network', 'oscillation: lr just below collapse', \
              'plateau: constant lr', 'slow crawl: lr too low', 'late spikes: constant lr (none seen)']
do for [i = 1:6] {
    c = C[i]
    set title T[i]
    plot f(c) using 4:(strcol(2) eq 'broken' ? $6 : 1/0) with lines linecolor rgb c_large linewidth 0.8 title 'broken', \
         f(c) using 4:(strcol(2) eq 'fixed' ? $6 : 1/0) with lines linecolor rgb c_right linewidth 0.8 title 'fixed', \
         log(10) with lines linetype 6 title 'ln C'
}
unset multiplot
