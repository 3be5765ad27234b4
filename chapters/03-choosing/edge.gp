# Figure 3.3: full-batch GD at lr = factor x 2/lambda_max, lambda_max measured at the
# start of each seed's run; every seed is a line. Left: linear least squares (a
# quadratic); right: an MLP with cross-entropy.
# Data: ch03-sharpness --experiment edge (edge-lin.tsv, edge-mlp.tsv), one block per
# factor and seed (factor outer); the legend is the factor read from the table.
width = 900
load 'figures/style.gp'
fac(f, i) = system(sprintf("awk -F'\\t' 'NF && !/^#/ && $1 != \"factor\" && !seen[$1]++ {print $1}' %s | sed -n %dp", f, i + 1))
nfac(f) = int(system(sprintf("awk -F'\\t' 'NF && !/^#/ && $1 != \"factor\" && !seen[$1]++ {n++} END {print n}' %s", f)))
nsd(f) = int(system(sprintf("awk -F'\\t' 'NF && !/^#/ && $1 != \"factor\" && !seen[$2]++ {n++} END {print n}' %s", f)))
set multiplot layout 1, 2 title 'every seed is a line'
set logscale y
set xlabel 'step'
set ylabel 'training loss (full batch)'
set key top right font ',11'
set title 'linear, squared error'
f = data . '/edge-lin.tsv'
nf = nfac(f); ns = nsd(f)
plot for [i=0:nf*ns-1] f every :::i::i using 4:5 with lines linetype (i / ns) + 1 title (i % ns == 0 ? fac(f, i / ns).' × 2/λ' : '')
set title 'MLP 784-32-10, cross-entropy'
f = data . '/edge-mlp.tsv'
nf = nfac(f); ns = nsd(f)
plot for [i=0:nf*ns-1] f every :::i::i using 4:5 with lines linetype (i / ns) + 1 title (i % ns == 0 ? fac(f, i / ns).' × 2/λ' : '')
unset multiplot
