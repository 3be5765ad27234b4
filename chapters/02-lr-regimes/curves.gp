# Figure 2.1: three learning rates on each model, every seed, loss against step (both
# axes log). Thin lines: the validation loss of each seed (every 10 steps), one colour
# per learning rate. A run the trainer stopped as diverged has no validation loss: its
# minibatch losses are drawn up to the last healthy step, and a cross marks the step at
# which it was stopped, at the loss that tripped the rule. Data: ch02-regimes --out,
# --summary (columns by position: curves run lr seed step train_loss val_loss; summary
# 3 status, 10 diverged_at, 12 div_loss).
width = 1100
height = 500
load 'figures/style.gp'
set multiplot layout 1, 2 title 'Too low, just right, too high: plain SGD on Fashion-MNIST, every seed'
set logscale xy
set xrange [1:1000]
set xlabel 'step'
set key top right font ',10'
do for [m in 'logreg mlp'] {
    f = data . '/' . m . '.tsv'
    s = data . '/' . m . '-sum.tsv'
    # rows of the summary: one per run (lr-major, seeds inner), three learning rates
    nrun = int(system(sprintf("awk -F'\t' '!/^#/ && $1 != \"lr\" {n++} END {print n}' %s", s)))
    K = nrun / 3
    # each run's lr and diverged_at, read once (a function calling awk inside `using`
    # would run awk for every point: a minute of CPU)
    array LR[nrun]
    array DIV[nrun]
    do for [i=1:nrun] {
        LR[i] = real(system(sprintf("awk -F'\t' '!/^#/ && $1 != \"lr\" {n++} n == %d {print $1; exit}' %s", i, s)))
        DIV[i] = int(system(sprintf("awk -F'\t' '!/^#/ && $1 != \"lr\" {n++} n == %d {print $10; exit}' %s", i, s)))
    }
    lr(i) = LR[i + 1]
    div(i) = DIV[i + 1]
    # the highest loss a cross is drawn at (the loss that tripped the divergence rule)
    ymax = real(system(sprintf("awk -F'\t' '!/^#/ && $3 == \"diverged\" && $12 + 0 > m {m = $12 + 0} END {print m + 0}' %s", s)))
    set yrange [0.25:(ymax > 20 ? 2 * ymax : 40)]
    set title (m eq 'logreg' ? 'logistic regression (784-10)' : 'MLP (784-64-10, ReLU)')
    set ylabel (m eq 'logreg' ? 'cross-entropy loss' : '')
    plot for [i=0:nrun-1] f every :::i::i using 4:(div(i) >= 0 ? $5 : NaN) with lines \
             linecolor rgb c_large linewidth 1.5 dashtype 1 \
             title (i % K == 0 && div(i) >= 0 ? sprintf('η = %g: minibatch loss until stopped', lr(i)) : ''), \
         for [i=0:nrun-1] f every :::i::i using 4:6 with lines linetype int(i / K) + 1 linewidth 1 dashtype 1 \
             title (i % K == 0 && div(i) < 0 ? sprintf('η = %g: validation loss', lr(i)) : ''), \
         s using 10:(strcol(3) eq 'diverged' ? $12 : NaN) with points pointtype 2 pointsize 1.8 linewidth 2.5 \
             linecolor rgb c_large title 'stopped as diverged (at the loss that tripped the rule)', \
         NaN with lines linecolor rgb '#ffffff' title sprintf('(%d seeds per η)', K)
}
unset multiplot
