# Figure 5.6: the linear scaling rule. Test accuracy after each epoch for batch 128 k at
# lr k * lr, without (left) and with (right) gradual warmup over the first epoch; one line
# per seed. Data: ch05-scaling --out scaling.tsv (seed k batch lr warmup_epochs epoch step
# train_loss test_loss test_acc status; one block per run).
width = 900
f = data . '/scaling.tsv'
stats f using 4 nooutput; lr0 = STATS_min
stats f using 2 nooutput; kmax = STATS_max
stats f using 1 nooutput; nseeds = STATS_max - STATS_min + 1
ks = '1 4 16'
ks = (kmax == 16 ? ks : sprintf('1 %d', kmax))
set multiplot layout 1,2 title sprintf('Batch 128·k at lr %g·k (SGD, momentum 0.9), %d seeds: one line per seed', lr0, nseeds)
set xlabel 'epoch'
set ylabel 'test accuracy (%)'
set xrange [0.8:*]
set yrange [0:100]
set xtics 1
set key outside below horizontal
do for [w=0:1] {
    set title (w == 0 ? 'no warmup' : 'linear warmup from lr to k·lr over the first epoch')
    plot for [i=1:words(ks)] f using 6:((column(2) == word(ks, i) + 0 && (column(5) > 0) == w || \
         (w == 1 && column(2) == 1 && word(ks, i) + 0 == 1)) && strcol(11) eq 'ok' ? 100*$10 : NaN) \
         with linespoints linetype i pointsize 0.5 linewidth 1 title sprintf('k = %s', word(ks, i))
}
unset multiplot
