# d2l 12.11's schedules as its code runs them, the lr of each epoch (seed 0's runs; the
# lr does not depend on the seed). Data: exp-d2l-train --curves (sched seed epoch lr
# train_loss train_acc), two files of three schedules each.
width = 860
a = data . '/curves-a.tsv'
b = data . '/curves-b.tsv'
is(s) = strcol(1) eq s && $2 == seed0
stats a using 2 nooutput; seed0 = STATS_min
set title "The lr of each epoch, as d2l 12.11's code runs each schedule"
set xlabel "epoch (counted from 0, as d2l's code does)"
set ylabel 'lr'
set xrange [-0.5:29.5]
set yrange [0:0.55]
set key top right
plot a using ($3-1):(is('constant') ? $4 : NaN) with steps linetype 1 title 'constant 0.3', \
     a using ($3-1):(is('sqrt') ? $4 : NaN) with steps linetype 2 title 'sqrt (0.1, then 0.1/sqrt(epoch))', \
     a using ($3-1):(is('multistep') ? $4 : NaN) with steps linetype 3 title 'multistep as meant (0.5, halved at 15)', \
     b using ($3-1):(is('multistep-d2l') ? $4 : NaN) with steps linetype 4 title "multistep as d2l's code runs it (0.125)", \
     b using ($3-1):(is('cosine') ? $4 : NaN) with steps linetype 5 title 'cosine 0.3 to 0.01 over 20', \
     b using ($3-1):(is('warmup-cosine') ? $4 : NaN) with steps linetype 6 title 'warmup 5, cosine'
