# Figure 5.6: the linear scaling rule. Test accuracy after each epoch for batch 128 k at
# lr k * lr, without (left) and with (right) gradual warmup over the first epoch.
# Data: ch05-scaling --out scaling.tsv (k batch lr warmup_epochs epoch step train_loss test_loss test_acc status).
width = 900
f = data . '/scaling.tsv'
stats f using 3 nooutput; lr0 = STATS_min
do for [i=0:4] { stats f every :::i::i using 1 nooutput; eval sprintf('k%d = STATS_min', i) }
set multiplot layout 1,2 title sprintf('Batch 128·k at lr %g·k (SGD, momentum 0.9)', lr0)
set xlabel 'epoch'
set ylabel 'test accuracy (%)'
set xrange [0.8:*]
set yrange [20:90]
set xtics 1
set key center right
do for [w=0:1] {
    set title (w == 0 ? 'no warmup' : 'linear warmup over the first epoch')
    plot for [i=0:4] f every :::(5*w+i)::(5*w+i) using 5:(strcol(10) eq 'ok' ? 100*$9 : NaN) with linespoints \
         linetype i+1 title sprintf('k = %d', value(sprintf('k%d', i)))
}
unset multiplot
