# Figure 7.3: a run straight through, and the same run killed after update 45 and
# resumed from its checkpoint of update 40. Data: ch07-fit logs (column 1 is the seed).
load 'figures/style.gp'
d(n) = data . '/' . n . '.tsv'
set key top right font ',11'
set title 'Killed and resumed: the curve continues exactly'
set xlabel 'update'
set ylabel 'training loss'
set logscale y
set yrange [0.5:3]
set ytics (0.5, 0.6, 0.8, 1, 1.5, 2, 3)
set arrow 1 from 45, graph 0 to 45, graph 1 nohead linecolor rgb c_large dashtype 2
set label 1 'killed' at 46, graph 0.92 textcolor rgb c_large
plot d('straight') using 2:5 with lines linewidth 6 linecolor rgb c_faint dashtype solid title 'straight', \
     d('killed') using 2:5 with points linetype 3 pointtype 7 title 'until killed', \
     d('resumed') using 2:5 with points linetype 1 pointtype 6 pointsize 1 title 'resumed from update 40'
