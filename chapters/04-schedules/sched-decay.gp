# Figure 4.3: the schedules that only go down, printed by lrsched with base lr 1 (so the
# y axis is lr / base). Data: sched/NAME.tsv; the legends are the canonical specs lrsched
# printed (every key spelled out), collected in numbers-sched.tsv.
height = 700
load 'figures/style.gp'
spec(n) = system("awk -F'\t' '$1 == \"sched_canon_" . n . "\" {printf \"%s\", $2}' " . data . "/numbers-sched.tsv")
s(n) = data . '/sched/' . n . '.tsv'
set multiplot layout 2, 2 title 'Decay schedules (lr / base lr against the step)'
set key top right font ',10' samplen 1.5
set xrange [0:1000]
set yrange [0:1.05]
set xtics 250
set title '(a) step decay' font ',12'
set yrange [0:1.4]
set ytics (0, 0.2, 0.4, 0.6, 0.8, 1)
plot s('step') using 1:2 with steps linetype 1 title spec('step') noenhanced, \
     s('multistep') using 1:2 with steps linetype 3 title spec('multistep') noenhanced
set ytics autofreq
set title '(b) exponential: a straight line on a log scale' font ',12'
set logscale y
set yrange [0.01:1.5]
set format y '10^{%L}'
plot s('exp') using 1:2 with lines linetype 4 title spec('exp') noenhanced, \
     s('expstair') using 1:2 with steps linetype 5 title spec('expstair') noenhanced
unset logscale y
set format y '%g'
set yrange [0:1.05]
set title '(c) linear and polynomial to 0' font ',12'
plot s('linear') using 1:2 with lines linetype 1 title spec('linear') noenhanced, \
     s('poly2') using 1:2 with lines linetype 3 title spec('poly2') noenhanced, \
     s('poly05') using 1:2 with lines linetype 2 title spec('poly05') noenhanced
set title '(d) cosine, to 0 and to a floor' font ',12'
plot s('cosine') using 1:2 with lines linetype 2 title spec('cosine') noenhanced, \
     s('cosinemin') using 1:2 with lines linetype 5 title spec('cosinemin') noenhanced
unset multiplot
