# Figure 2.1: three learning rates on each model, loss against step (both axes log).
# Faint: the training loss of each minibatch; bold with dots: the validation loss every
# 10 steps (the key's lines). A diverged run's curve stops at its last healthy step, and a cross marks the
# step at which the trainer stopped it. Data: ch02-regimes --out, --summary.
width = 1100
height = 480
load 'figures/style.gp'
# the colours of too small, just right, too large (style.gp), light for the batch losses
light(i) = i == 0 ? '#a6c8e6' : i == 1 ? '#a9dba9' : '#f0a9a9'
set multiplot layout 1, 2 title 'Too low, just right, too high: plain SGD on Fashion-MNIST'
set logscale xy
set xrange [1:1000]
set yrange [0.25:40]
set ytics (0.3, 0.5, 1, 2, 3, 5, 10, 20)
set xlabel 'step'
set key top right font ',11'
do for [m in 'logreg mlp'] {
    f = data . '/' . m . '.tsv'
    s = data . '/' . m . '-sum.tsv'
    # per run (block i): its lr and where it diverged (-1: it did not)
    lr(i) = real(system(sprintf("awk -F'\t' '!/^#/ && $1 != \"lr\" {n++} n == %d {print $1; exit}' %s", i + 1, s)))
    div(i) = int(system(sprintf("awk -F'\t' '!/^#/ && $1 != \"lr\" {n++} n == %d {print $10; exit}' %s", i + 1, s)))
    set title (m eq 'logreg' ? 'logistic regression (784-10)' : 'MLP (784-64-10, ReLU)')
    set ylabel (m eq 'logreg' ? 'cross-entropy loss' : '')
    unset label
    ok = ''
    do for [i=0:2] {
        if (div(i) >= 0) {
            set label sprintf('diverged at step %d', div(i)) at div(i), 22 offset 1, 0 textcolor rgb c_large font ',11'
        } else {
            ok = ok . sprintf(' %d', i)
        }
    }
    # the validation curves of the runs that did not diverge; a diverged run's minibatch
    # losses in full colour (they are all there is of it), ending in the cross
    plot for [i=0:2] f every :::i::i using 4:5 with lines \
             linecolor rgb (div(i) >= 0 ? c_large : light(i)) linewidth (div(i) >= 0 ? 2 : 1) \
             title (div(i) >= 0 ? sprintf('lr = %g (training loss)', lr(i)) : ''), \
         for [w in ok] f every :::int(w)::int(w) using 4:6 with linespoints linetype int(w) + 1 \
             pointsize 0.4 title sprintf('lr = %g', lr(int(w))), \
         for [i=0:2] '+' using (div(i) >= 0 ? div(i) : NaN):(22) every ::0::0 with points pointtype 2 pointsize 2.5 \
             linewidth 3 linecolor rgb c_large notitle
}
unset multiplot
