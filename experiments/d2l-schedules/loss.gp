# d2l 12.11: the running training loss of each epoch (the mean over its batches, before
# each update, as d2l prints it), every schedule, one line per seed. Data: exp-d2l-train
# --curves (sched seed epoch lr train_loss train_acc), two files of three schedules each.
width = 860
a = data . '/curves-a.tsv'
b = data . '/curves-b.tsv'
stats a using 2 nooutput; s0 = STATS_min; s1 = STATS_max
is(s, k) = strcol(1) eq s && $2 == k
set title 'Training loss per epoch (one line per seed)'
set xlabel 'epochs done'
set ylabel 'training loss'
set logscale y
set xrange [1:30]
set key top right
plot for [k=s0:s1] a using 3:(is('constant', k) ? $5 : NaN) with lines linetype 1 title (k == s0 ? 'constant' : ''), \
     for [k=s0:s1] a using 3:(is('sqrt', k) ? $5 : NaN) with lines linetype 2 title (k == s0 ? 'sqrt' : ''), \
     for [k=s0:s1] a using 3:(is('multistep', k) ? $5 : NaN) with lines linetype 3 title (k == s0 ? 'multistep (as meant)' : ''), \
     for [k=s0:s1] b using 3:(is('multistep-d2l', k) ? $5 : NaN) with lines linetype 4 title (k == s0 ? "multistep (d2l's code)" : ''), \
     for [k=s0:s1] b using 3:(is('cosine', k) ? $5 : NaN) with lines linetype 5 title (k == s0 ? 'cosine' : ''), \
     for [k=s0:s1] b using 3:(is('warmup-cosine', k) ? $5 : NaN) with lines linetype 6 title (k == s0 ? 'warmup + cosine' : '')
