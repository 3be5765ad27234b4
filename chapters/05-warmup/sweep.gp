# Figure 5.5: where Adam at a high lr lands after the same number of steps, against the
# length of its linear warmup (0 drawn at the left edge). Dots: seeds; line: their mean.
# Data: ch05-warmup --summary tables (warmup seed ... peak_loss(6) ... test_acc(10) ...).
height = 620
runs = '< grep -hv "^[#w]" ' . data . '/seeds-w0.tsv ' . data . '/seeds-w100.tsv ' . data . '/sweep-a.tsv ' . data . '/sweep-b.tsv | sort -n -k1,1'
stats data . '/ref.tsv' using 10 nooutput; ref = 100 * STATS_mean
x(T) = T == 0 ? 0.3 : T
set logscale x
set xrange [0.2:2000]
set xtics ('0' 0.3, 1, 3, 10, 30, 100, 300, 1000)
set multiplot layout 2,1 title 'A warmup-length sweep (Adam, same lr and number of steps)'
set ylabel 'peak training loss'
set logscale y
set yrange [1:300]
unset xlabel
set key top right
plot runs using (x($1)):6 with points pointtype 7 pointsize 0.6 linecolor rgb c_large title 'one seed', \
     runs using (x($1)):6 smooth unique with lines linetype 1 title 'mean', \
     10 * log(10) with lines linetype 6 title "the trainer's rule: 10 × ln 10"
unset logscale y
set yrange [20:100]
set ylabel 'test accuracy (%)'
set xlabel 'linear warmup length (steps)'
set key bottom right
plot runs using (x($1)):(100*$10) with points pointtype 7 pointsize 0.6 linecolor rgb c_large title 'one seed', \
     runs using (x($1)):(100*$10) smooth unique with lines linetype 1 title 'mean', \
     ref with lines linetype 6 title sprintf('lr = 0.001, no warmup (mean): %.1f%%', ref)
unset multiplot
