# Figure 4.4: schedules that go back up: cosine with warm restarts and the cyclic
# schedules (with the momentum they cycle in the opposite direction). lrsched, base 1.
width = 900
height = 760
load 'figures/style.gp'
spec(n) = system("awk -F'\t' '$1 == \"sched_" . n . "\" {printf \"%s\", $2}' " . data . "/numbers-sched.tsv")
s(n) = data . '/sched/' . n . '.tsv'
set multiplot layout 3, 1 title 'Restarts and cycles (lr / base lr against the step)'
set key at screen 0.65, graph 1 left top Left reverse font ',10' samplen 1.5
# the same margins in every panel, so that their step axes line up
set lmargin at screen 0.07
set rmargin at screen 0.64
set xrange [0:1000]
set xtics 100
set yrange [0:1.05]
set title '(a) cosine with warm restarts (SGDR)' font ',12'
plot s('restarts') using 1:2 with lines linetype 2 title spec('restarts') noenhanced, \
     s('restarts2') using 1:2 with lines linetype 5 title spec('restarts2') noenhanced
set title '(b) cyclic: triangular, triangular2, exp\_range' font ',12'
plot s('triangular') using 1:2 with lines linetype 1 title spec('triangular') noenhanced, \
     s('triangular2') using 1:2 with lines linetype 3 title spec('triangular2') noenhanced, \
     s('exprange') using 1:2 with lines linetype 4 title spec('exprange') noenhanced
set title '(c) the momentum that cyclic sets, high when the lr is low' font ',12'
set yrange [0.78:0.92]
set xlabel 'step'
set ylabel 'momentum'
plot s('triangular') using 1:3 with lines linetype 1 title spec('triangular') noenhanced
unset multiplot
