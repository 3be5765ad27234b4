# Figure 6.2: momentum's effective learning rate. Left: training loss (mean of each 10
# steps) of every seed, plain SGD at eta against momentum beta at eta (1 - beta), and the
# two controls. Right: the largest stable lr on Chapter 1's quadratic (lambda_max = 10),
# measured by bisection (dots) against the formulas (lines).
# Data: ch06-momentum --curves (arm beta lr seed step train_loss), --limits (form beta
# measured theory ratio).
width = 1100
height = 560
f = data . '/opt-momentum.tsv'
sel(a) = sprintf('< awk -F"\t" ''/^#/ || /^arm/ {next} NF == 0 {print ""; next} $1 == "%s"'' %s', a, f)
set multiplot layout 1,2
set title 'SGD at η and momentum β at η(1-β), every seed'
set xlabel 'step'
set ylabel 'training loss'
set logscale y
set yrange [0.4:2.5]
set key below maxrows 3 width -4
plot sel('sgd_small') using 5:6 with lines linecolor rgb c_faint linewidth 1 title 'SGD at η(1-0.9): no momentum', \
     sel('momentum_same_lr') using 5:6 with lines linecolor rgb c_extra linewidth 1 title 'momentum 0.9 at η: not rescaled', \
     sel('sgd') using 5:6 with lines linetype 6 linewidth 2 title 'SGD at η', \
     sel('momentum_0.5') using 5:6 with lines linecolor rgb c_small linewidth 1 title 'momentum 0.5 at η/2', \
     sel('momentum_0.8') using 5:6 with lines linecolor rgb c_right linewidth 1 title 'momentum 0.8 at η/5', \
     sel('momentum_0.9') using 5:6 with lines linecolor rgb c_large linewidth 1 title 'momentum 0.9 at η/10'
unset logscale y
set yrange [0:0.45]
set title 'Largest stable lr on a quadratic with λ_{max} = 10'
set xlabel 'momentum β'
set ylabel 'largest stable lr'
set xrange [0:1]
set key inside top left
L = 10
plot 2 * (1 + x) / L with lines linetype 6 title '2(1+β)/λ_{max}', \
     2 * (1 + x) / ((1 + 2 * x) * L) with lines linecolor rgb c_theory dashtype 3 title '2(1+β)/((1+2β)λ_{max})', \
     '< grep -v "^#" ' . data . '/opt-limits.tsv | awk -F"\t" ''$1 == "momentum"''' using 2:3 with points pointtype 7 pointsize 1 linecolor rgb c_large title 'momentum (measured)', \
     '< grep -v "^#" ' . data . '/opt-limits.tsv | awk -F"\t" ''$1 == "nesterov"''' using 2:3 with points pointtype 5 pointsize 1 linecolor rgb c_small title 'Nesterov (measured)'
unset multiplot
