# experiments/cohen-eos: the training loss (top) and the sharpness (bottom) along
# full-batch runs, every seed a line, one colour per learning rate; dashed: the update's
# stability limit limit/η in the same colour (2/η for plain GD). After Cohen et al. 2021,
# Figure 1. Loaded by eos-gd.gp and eos-momentum.gp, which set `files` (the traces, in
# order), `prefixes` (each file's numbers-PREFIX.tsv holds PREFIX_limit: 2, 2(1+β) or
# (2+2β)/(1+2β)) and `names`.
# Data: exp-eos-summary --out (lr seed step loss sharpness; one block per lr and seed).
height = 700
load 'figures/style.gp'
nf = words(files)
f(i) = data . '/' . word(files, i)
# the (file, lr) pairs in order, and the seeds per lr
pairs = ''
do for [i = 1:nf] {
    pairs = pairs . system(sprintf("awk -F'\\t' 'NF && !/^#/ && $1 != \"lr\" && !seen[$1]++ {printf \"%d:%%s \", $1}' %s", i, f(i)))
}
np = words(pairs)
pf(j) = int(word(word(pairs, j)[1:strstrt(word(pairs, j), ':') - 1], 1))
plr(j) = real(word(pairs, j)[strstrt(word(pairs, j), ':') + 1:])
ns = int(system(sprintf("awk -F'\\t' 'NF && !/^#/ && $1 != \"lr\" && !seen[$2]++ {n++} END {print n}' %s", f(1))))
limits = ''
do for [i = 1:nf] {
    p = word(prefixes, i)
    limits = limits . system(sprintf("awk -F'\t' '$1 == \"%s_limit\" {printf \"%%s \", $2}' %s/numbers-%s.tsv", p, data, p))
}
lim(j) = real(word(limits, pf(j))) / plr(j)
label(j) = sprintf('%s, η = %g', word(names, pf(j)), plr(j))
set multiplot layout 2, 1 title sprintf('full-batch training, %d seeds per learning rate', ns)
set ylabel 'training loss'
set logscale y
set key top right font ',10'
# every seed is its own block, so its own line
plot for [j = 1:np] f(pf(j)) using 3:($1 == plr(j) ? $4 : NaN) with lines linetype j linewidth 1 title label(j)
unset logscale y
set ylabel 'sharpness λ_{max}'
set xlabel 'step'
set yrange [0:*]
set datafile missing 'nan'
set key top left font ',10'
plot for [j = 1:np] '< grep -v nan ' . f(pf(j)) using 3:($1 == plr(j) ? $5 : NaN) with lines linetype j notitle, \
     for [j = 1:np] lim(j) with lines linetype j dashtype 2 title sprintf('%s: %.4g/η = %.3g', word(names, pf(j)), real(word(limits, pf(j))), lim(j))
unset multiplot
