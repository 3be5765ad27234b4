# Figure 4.5: one-cycle, two phases (cos and linear) and three phases, with the momentum
# it cycles against the lr. lrsched, base lr 1 (the peak).
height = 620
load 'figures/style.gp'
spec(n) = system("awk -F'\t' '$1 == \"sched_" . n . "\" {printf \"%s\", $2}' " . data . "/numbers-sched.tsv")
s(n) = data . '/sched/' . n . '.tsv'
set multiplot layout 2, 1 title 'One-cycle: up to the peak, then down to almost 0'
set key top right font ',10' samplen 1.5
set xrange [0:1000]
set xtics 100
set ylabel 'lr / base lr'
set yrange [0:1.05]
plot s('onecycle') using 1:2 with lines linetype 3 title spec('onecycle') noenhanced, \
     s('onecyclelin') using 1:2 with lines linetype 1 title spec('onecyclelin') noenhanced, \
     s('onecycle3') using 1:2 with lines linetype 2 title spec('onecycle3') noenhanced
set ylabel 'momentum'
set xlabel 'step'
set yrange [0.84:0.96]
unset key
plot s('onecycle') using 1:3 with lines linetype 3 notitle, \
     s('onecyclelin') using 1:3 with lines linetype 1 notitle, \
     s('onecycle3') using 1:3 with lines linetype 2 notitle
unset multiplot
