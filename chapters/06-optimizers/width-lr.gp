# Figure 6.5: training loss against the learning rate, one curve per width, in the
# standard parametrization (left) and in muP (right), after Yang et al. 2022, Figure 1.
# Lines: the median over seeds; bands: the range (min to max over the seeds that did not
# diverge). Data: ch06-width --curves (param width lr median min max diverged seeds).
width = 980
height = 440
file = data . '/width-curves.tsv'
stats file using 2 nooutput; wmin = STATS_min; wmax = STATS_max
widths = system('grep -v "^#" ' . file . ' | awk ''NR > 1 && $2 != "" { print $2 }'' | sort -nu | tr "\n" " "')
nw = words(widths)
# light (narrow) to dark (wide)
shade(i) = sprintf('#%02x%02x%02x', 200 - 180 * (i - 1) / (nw > 1 ? nw - 1 : 1), 210 - 150 * (i - 1) / (nw > 1 ? nw - 1 : 1), 255 - 100 * (i - 1) / (nw > 1 ? nw - 1 : 1))
set logscale x 2
set format x '2^{%L}'
set xlabel 'learning rate η (Adam)'
set yrange [*:1.5]   # the slowest runs of SP's narrow widths leave the frame: the basins are the point
set key top left
set multiplot layout 1,2
sel(p, w, col) = (strcol(1) eq p && $2 == w) ? column(col) : NaN
do for [panel = 1:2] {
    p = panel == 1 ? 'sp' : 'mup'
    set title panel == 1 ? 'standard parametrization (PyTorch''s init, one lr)' : 'μP (Yang et al. 2022, Table 3, Adam)'
    set ylabel panel == 1 ? 'training loss (mean of the last 25 steps)' : ''
    plot for [i = 1:nw] file using 3:(sel(p, real(word(widths, i)), 5)):(sel(p, real(word(widths, i)), 6)) \
             with filledcurves fillcolor rgb shade(i) fillstyle transparent solid 0.25 noborder notitle, \
         for [i = 1:nw] file using 3:(sel(p, real(word(widths, i)), 4)) with linespoints \
             linewidth 2 pointtype 7 pointsize 0.6 linecolor rgb shade(i) title sprintf('width %s', word(widths, i))
}
unset multiplot
