# Figure 5.5: where Adam at a high lr lands after the same number of steps, against the
# length of its linear warmup (0 drawn at the left edge). Dots: seeds; line: their median.
# Data: ch05-warmup --summary tables (warmup seed ... peak_loss(6) ... test_acc(10) ...).
height = 620
runs = '< grep -hv "^[#w]" ' . data . '/seeds-w0.tsv ' . data . '/seeds-w100.tsv ' . data . '/sweep-a.tsv ' . data . '/sweep-b.tsv | sort -n -k1,1'
stats data . '/ref.tsv' using 10 nooutput; ref = 100 * STATS_median
# the median of column c per warmup length: sort by length, then by c; take the middle
med = ' | awk -v c=%d ''BEGIN { OFS = "\t" } { if ($1 != T && n) { print T, (n %% 2 ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2); n = 0 } T = $1; v[++n] = $c } END { print T, (n %% 2 ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2) }'''
median_peak = runs . ' -k6,6g' . sprintf(med, 6)
median_acc = runs . ' -k10,10g' . sprintf(med, 10)
x(T) = T == 0 ? 0.3 : T
set logscale x
set xrange [0.2:500]
set xtics ('0' 0.3, 1, 3, 10, 30, 100, 300)
set multiplot layout 2,1 title 'A warmup-length sweep (Adam, same lr and number of steps)'
set ylabel 'peak training loss'
set logscale y
set yrange [1:300]
unset xlabel
set key outside right vertical
set rmargin 34
plot runs using (x($1)):6 with points pointtype 7 pointsize 0.6 linecolor rgb c_large title 'one seed', \
     median_peak using (x($1)):2 with lines linetype 1 title 'median', \
     10 * log(10) with lines linetype 6 title "the trainer's rule:\n10 × ln 10"
unset logscale y
set yrange [20:100]
set ylabel 'test accuracy (%)'
set xlabel 'linear warmup length (steps)'
plot runs using (x($1)):(100*$10) with points pointtype 7 pointsize 0.6 linecolor rgb c_large title 'one seed', \
     median_acc using (x($1)):(100*$2) with lines linetype 1 title 'median', \
     ref with lines linetype 6 title sprintf("lr 0.001, no warmup:\nmedian %.1f%%", ref)
unset multiplot
