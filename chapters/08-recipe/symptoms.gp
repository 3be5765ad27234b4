# Figure 8.2: the six rows of the symptom table, one panel each: the training loss of the
# broken setting (red) and of its fix (green), every seed, as the mean of the last 10
# steps; in the late-spikes panel, the detected late spikes as crosses at their loss.
# Data: ch08-symptoms --curves (recipe-CASE-curves.tsv): case arm seed step lr loss gnorm
# ratio loss10 late_spike, one block per run.
height = 780
width = 1000
load 'figures/style.gp'
f(c) = data . '/recipe-' . c . '-curves.tsv'
set multiplot layout 2, 3 title 'Each row of the table, 5 seeds: the broken setting (red) and its fix (green)'
set key top right font ',9' spacing 1.0
set logscale y
set ytics (0.01, 0.03, 0.1, 0.3, 0.5, 1, 2.3, 5, 10)
set xlabel 'step'
set ylabel 'training loss'
array C[6] = ['nan', 'stuck', 'osc', 'plateau', 'crawl', 'spikes']
array T[6] = ['NaN/explosion: lr far too high', 'stuck at ln C: dead network', 'oscillation: lr just below collapse', \
              'plateau: constant lr', 'slow crawl: lr too low', 'late spikes: Adam at a constant lr']
array LO[6] = [0.2, 0.2, 0.2, 0.2, 0.2, 0.02]   # the late spikes reach a small loss
do for [i = 1:6] {
    c = C[i]
    set yrange [LO[i]:20]
    set title T[i]
    plot f(c) using 4:(strcol(2) eq 'fixed' ? $9 : 1/0) with lines linecolor rgb c_right linewidth 0.8 title 'fixed', \
         f(c) using 4:(strcol(2) eq 'broken' ? $9 : 1/0) with lines linecolor rgb c_large linewidth 0.8 title 'broken', \
         log(10) with lines linetype 6 title 'ln C', \
         f(c) using 4:(c eq 'spikes' && strcol(2) eq 'broken' && $10 == 1 ? $6 : 1/0) with points \
             pointtype 2 pointsize 0.9 linecolor rgb c_large title (c eq 'spikes' ? 'late spike' : ''), \
         f(c) using 4:(c eq 'spikes' && strcol(2) eq 'fixed' && $10 == 1 ? $6 : 1/0) with points \
             pointtype 2 pointsize 0.9 linecolor rgb c_right notitle
}
unset multiplot
