# Figure 3.4: the sharpness (largest Hessian eigenvalue of the full-batch loss) during
# full-batch GD at one lr climbs to 2/lr and stays around it (Cohen et al. 2021).
# Data: ch03-sharpness --experiment eos (eos.tsv, numbers-eos.tsv).
height = 600
load 'figures/style.gp'
num(k) = real(system(sprintf("awk -F'\t' '$1 == \"%s\" {print $2}' %s/numbers-eos.tsv", k, data)))
edge = num('eos_two_over_lr')
set multiplot layout 2, 1
set ylabel 'sharpness λ_{max}'
set key bottom right
set yrange [0:*]
set datafile missing 'nan'
plot data.'/eos.tsv' using 1:3 with linespoints linetype 2 title 'sharpness (power iteration)', \
     edge with lines linetype 6 title sprintf('2 / lr = %g', edge)
set ylabel 'training loss'
set xlabel 'step'
set logscale y
set yrange [*:*]
plot data.'/eos.tsv' using 1:2 with lines linetype 1 title 'full-batch loss'
unset multiplot
