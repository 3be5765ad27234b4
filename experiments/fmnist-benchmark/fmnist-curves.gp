# exp-fmnist-benchmark-curves: test accuracy after each epoch, every seed (thin lines),
# one colour per row of Table 3, with the accuracy the paper reports for that row
# (dashed, Xiao, Rasul & Vollgraf 2017, arXiv:1708.07747, Table 3).
# Data: exp-fmnist-bench --curves (row seed epoch train_loss test_acc), one block per seed,
# one file per row: curves-ROW.tsv in the results directory.
rows = 'mlp-relu-100 mlp-tanh-100 mlp-relu-10 logreg-C1-l2 logreg-C100-l2'
names = '"MLP relu [100]" "MLP tanh [100]" "MLP relu [10]" "logistic C=1" "logistic C=100"'
pub = '0.871 0.868 0.848 0.841 0.836'
colours = c_small . ' ' . c_right . ' ' . c_large . ' ' . c_other . ' ' . c_extra
set title 'Fashion-MNIST, scikit-learn settings: test accuracy (every seed) and Table 3 (dashed)'
set xlabel 'epoch'
set ylabel 'test accuracy'
set yrange [0.79:0.895]
set key outside right vertical
set rmargin 26
width = 860
f(r) = data . '/curves-' . r . '.tsv'
plot for [i = 1:words(rows)] f(word(rows, i)) using 3:5 with lines linecolor rgb word(colours, i) linewidth 0.8 dashtype solid notitle, \
     for [i = 1:words(rows)] (real(word(pub, i))) with lines linecolor rgb word(colours, i) linewidth 1.5 dashtype 2 notitle, \
     for [i = 1:words(rows)] NaN with lines linecolor rgb word(colours, i) linewidth 2 dashtype solid title word(names, i)
