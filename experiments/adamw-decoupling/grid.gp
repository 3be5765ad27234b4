# experiments/adamw-decoupling: held-out error over a grid of learning rate x weight
# decay, Adam with L2 (left) and AdamW (right), after Loshchilov & Hutter 2019, Figure 2.
# Top: held-out error (the paper's measure), in %; bottom: held-out loss. Each cell: the
# median over the seeds; a white frame marks each lr's best weight decay by that measure.
# Data: exp-adamw-summary --grid (optim lr weight_decay i_lr i_wd val_err val_loss
# best_err best_loss); the tics and the number of seeds are read from the tables.
width = 1200
height = 1000
file = data . '/grid.tsv'
sel(o, col) = strcol(1) eq o ? column(col) : NaN
# tic labels from the data: the value in column c at the index in column i
tics(c, i) = system('grep -v "^#" ' . file . ' | awk -F"\t" -v c=' . c . ' -v i=' . i . \
    ' ''NR > 1 && $1 != "" && !seen[$i]++ { printf "%s\"%s\" %s", n++ ? ", " : "", $c, $i }''')
ns = system('grep -m1 "^seeds" ' . data . '/numbers.tsv | cut -f2')
eval('set xtics (' . tics(2, 4) . ')')
eval('set ytics (' . tics(3, 5) . ')')
set xtics rotate by 45 right font ',9'
set ytics font ',9'
set xrange [-0.5:*]
set yrange [-0.5:*]
set xlabel 'learning rate η'
set ylabel 'weight decay λ (PyTorch)'
set palette defined (0 '#1a9850', 0.5 '#fee08b', 1 '#d73027')
set key off
set multiplot layout 2,2
do for [row = 1:2] {
    # column of the value, of its best-in-row flag; scale and label format
    vc = row == 1 ? 6 : 7
    bc = row == 1 ? 8 : 9
    sc = row == 1 ? 100 : 1
    lf = row == 1 ? '%.0f' : '%.2f'
    stats file using (sc * column(vc)) nooutput
    set cbrange [STATS_min:STATS_min + 2 * (STATS_median - STATS_min) + (row == 1 ? 1 : 0.01)]
    set cblabel sprintf(row == 1 ? 'held-out error, %% (median, %s seeds)' : 'held-out loss (median, %s seeds)', ns)
    do for [panel = 1:2] {
        o = panel == 1 ? 'adam' : 'adamw'
        set title panel == 1 ? 'Adam + L2 (torch.optim.Adam, weight\_decay = λ)' : 'AdamW (θ ← θ − ηλθ every step)'
        plot file using (sel(o, 4)):5:(0.5):(0.5):(sc * column(vc)) with boxxyerror fillstyle solid 1.0 noborder linecolor palette, \
             file using (sel(o, 4)):5:(sprintf(lf, sc * column(vc))) with labels font ',7', \
             file using (sel(o, 4) + (column(bc) > 0 ? 0 : NaN)):5:(0.46):(0.46) with boxxyerror fillstyle empty linecolor rgb 'white' linewidth 3
    }
}
unset multiplot
