# Figure 3.4: the sharpness (largest Hessian eigenvalue of the full-batch loss) during
# full-batch GD at three lrs, every seed a line; dashed: 2/lr in the same colour.
# Data: ch03-sharpness --experiment eos (eos.tsv: one block per lr and seed, lr outer);
# the legend's lrs and the number of seeds are read from the table.
height = 640
load 'figures/style.gp'
f = data . '/eos.tsv'
lrs = system(sprintf("awk -F'\\t' 'NF && !/^#/ && $1 != \"lr\" && !seen[$1]++ {printf \"%%s \", $1}' %s", f))
nl = words(lrs)
ns = int(system(sprintf("awk -F'\\t' 'NF && !/^#/ && $1 != \"lr\" && !seen[$2]++ {n++} END {print n}' %s", f)))
lr(j) = real(word(lrs, j + 1))
set multiplot layout 2, 1 title sprintf('full-batch GD, %d seeds per learning rate', ns)
set ylabel 'sharpness λ_{max}'
set key top right font ',10' maxrows 3
set yrange [0:*]
set datafile missing 'nan'
plot for [i=0:nl*ns-1] '< grep -v nan '.f every :::i::i using 3:5 with lines linetype (i / ns) + 1 title (i % ns == 0 ? sprintf('η = %g', lr(i / ns)) : ''), \
     for [j=0:nl-1] 2 / lr(j) with lines linetype j + 1 dashtype 2 title sprintf('2/η = %.3g', 2 / lr(j))
set ylabel 'training loss'
set xlabel 'step'
set logscale y
set yrange [*:*]
unset key
plot for [i=0:nl*ns-1] f every :::i::i using 3:4 with lines linetype (i / ns) + 1 notitle
unset multiplot
