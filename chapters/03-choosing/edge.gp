# Figure 3.3: full-batch GD at lr = factor x 2/lambda_max, lambda_max measured at the
# start. Left: linear least squares (a quadratic); right: an MLP with cross-entropy.
# Data: ch03-sharpness --experiment edge (edge-lin.tsv, edge-mlp.tsv), one block per factor.
width = 900
load 'figures/style.gp'
fac(f, i) = system(sprintf("awk -F'\\t' 'NF && !/^#/ && $1 != \"factor\" && !seen[$1]++ {print $1}' %s | sed -n %dp", f, i + 1))
set multiplot layout 1, 2
set logscale y
set xlabel 'step'
set ylabel 'training loss (full batch)'
set key top right font ',11'
set title 'linear, squared error'
f = data . '/edge-lin.tsv'
plot for [i=0:4] f every :::i::i using 3:4 with lines linetype (i == 0 ? 1 : i == 1 ? 2 : i == 2 ? 5 : i == 3 ? 4 : 3) title fac(f, i).' × 2/λ'
set title 'MLP 784-32-10, cross-entropy'
f = data . '/edge-mlp.tsv'
plot for [i=0:4] f every :::i::i using 3:4 with lines linetype i + 1 title fac(f, i).' × 2/λ'
unset multiplot
