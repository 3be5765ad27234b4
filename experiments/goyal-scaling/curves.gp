# Goyal et al. 2017, Figure 3 analogue: test error after every epoch for batch 256 (the
# baseline, its lr 0.1) and a larger batch at the linearly scaled lr, without and with
# the gradual warmup; one line per seed. A run stopped by the divergence rule has no
# points after its stop. Data: exp-goyal-scaling --curves (seed batch lr
# warmup_epochs epoch step test_err; one block per run).
width = 1100
height = 420
f = data . '/curves.tsv'
bs = '512 1024 2048'
ymax = '60 60 100'
set multiplot layout 1,3 title 'Test error after each epoch, batch 256 against a larger batch at the scaled lr (one line per seed)'
set xlabel 'epoch'
set ylabel 'test error (%)'
set xrange [0.8:9.2]
set xtics 1
do for [i=1:words(bs)] {
    b = word(bs, i) + 0
    set yrange [10:word(ymax, i) + 0]
    if (i == words(bs)) { set key at graph 0.98, graph 0.35 right } else { unset key }
    set title sprintf('batch %d', b)
    plot f using 5:($2 == 256 ? 100*$7 : NaN) with lines linetype 1 title 'batch 256, lr 0.1', \
         f using 5:($2 == b && $4 == 0 ? 100*$7 : NaN) with lines linetype 3 title 'no warmup', \
         f using 5:($2 == b && $4 > 0 ? 100*$7 : NaN) with lines linetype 2 title 'warmup'
}
unset multiplot
