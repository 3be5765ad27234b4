# Figure 8.1: the update-to-weight ratio ||dW|| / ||W|| of the first layer's weight at every
# step, every seed: the crawl row's two arms (plain SGD at a too-low lr and at its fix),
# the plateau row's Adam at a constant lr, and the stuck row's dead network. The dashed
# line: CS231n's "somewhere around 1e-3".
# Data: ch08-symptoms --curves: case arm seed step lr loss gnorm ratio loss10 late_spike,
# one block per run, the arms' specs in its header.
load 'figures/style.gp'
f(c) = data . '/recipe-' . c . '-curves.tsv'
set title 'The update-to-weight ratio of the first layer, 5 seeds each'
set logscale y
set format y '10^{%L}'
set yrange [1e-7:1]
set xlabel 'step'
set ylabel '||ΔW|| / ||W||'
set key bottom right font ',10'
pos(x) = x > 0 ? x : 1/0
# each arm's optimizer spec, from the table's header ("# broken: SPEC [sched ...] clip N")
spec(c, arm) = system(sprintf("sed -n 's/^# %s: \\([^ ]*\\).*/\\1/p' %s", arm, f(c)))
plot f('crawl') using 4:(strcol(2) eq 'broken' ? pos($8) : 1/0) with lines linetype 1 linewidth 0.8 title spec('crawl', 'broken') . ' (crawl)', \
     f('crawl') using 4:(strcol(2) eq 'fixed' ? pos($8) : 1/0) with lines linetype 2 linewidth 0.8 title spec('crawl', 'fixed'), \
     f('plateau') using 4:(strcol(2) eq 'broken' ? pos($8) : 1/0) with lines linetype 4 linewidth 0.8 title spec('plateau', 'broken'), \
     f('stuck') using 4:(strcol(2) eq 'broken' ? pos($8) : 1/0) with lines linetype 3 linewidth 0.8 title spec('stuck', 'broken') . ' (dead)', \
     1e-3 with lines linetype 6 title 'CS231n: about 1e-3'
