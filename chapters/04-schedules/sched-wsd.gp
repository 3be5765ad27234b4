# Figure 4.6: warmup-stable-decay with its three decay shapes, the inverse square root,
# and warmup composed in front of cosine. lrsched, base lr 1.
width = 900
height = 760
load 'figures/style.gp'
spec(n) = system("awk -F'\t' '$1 == \"sched_" . n . "\" {printf \"%s\", $2}' " . data . "/numbers-sched.tsv")
s(n) = data . '/sched/' . n . '.tsv'
set multiplot layout 3, 1 title 'Warmup in front (lr / base lr against the step)'
set key at screen 0.65, graph 1 left top Left reverse font ',10' samplen 1.5
# the same margins in every panel, so that their step axes line up
set lmargin at screen 0.07
set rmargin at screen 0.64
set xrange [0:1000]
set xtics 100
set yrange [0:1.05]
set title '(a) warmup-stable-decay: linear, cosine and 1-sqrt decay' font ',12'
plot s('wsd') using 1:2 with lines linetype 1 title spec('wsd') noenhanced, \
     s('wsdcos') using 1:2 with lines linetype 2 title spec('wsdcos') noenhanced, \
     s('wsdsqrt') using 1:2 with lines linetype 3 title spec('wsdsqrt') noenhanced
set title '(b) inverse square root after a linear warmup' font ',12'
plot s('invsqrt') using 1:2 with lines linetype 4 title spec('invsqrt') noenhanced
set title '(c) three warmups in front of cosine' font ',12'
set xlabel 'step'
plot s('warmcos') using 1:2 with lines linetype 1 title spec('warmcos') noenhanced, \
     s('warmexp') using 1:2 with lines linetype 3 title spec('warmexp') noenhanced, \
     s('warmconst') using 1:2 with lines linetype 2 title spec('warmconst') noenhanced
unset multiplot
