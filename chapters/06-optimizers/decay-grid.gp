# Figure 6.6: held-out loss over a grid of learning rate x weight decay, Adam with L2
# (left) and AdamW (right), after Loshchilov & Hutter 2019, Figure 2. Each cell: the
# median over seeds; a white frame marks each lr's best weight decay.
# Data: ch06-decay --grid (optim lr weight_decay i_lr i_wd val_loss val_acc best_in_row).
width = 1000
height = 470
file = data . '/width-decay-grid.tsv'
sel(o, col) = strcol(1) eq o ? column(col) : NaN
# tic labels from the data: the value in column c at the index in column i
tics(c, i) = system('grep -v "^#" ' . file . ' | awk -F"\t" -v c=' . c . ' -v i=' . i . \
    ' ''NR > 1 && $1 != "" && !seen[$i]++ { printf "%s\"%s\" %s", n++ ? ", " : "", $c, $i }''')
eval('set xtics (' . tics(2, 4) . ')')
eval('set ytics (' . tics(3, 5) . ')')
set xrange [-0.5:*]
set yrange [-0.5:*]
set xlabel 'learning rate η'
set ylabel 'weight decay λ'
set cblabel 'held-out loss (median over seeds)'
set palette defined (0 '#1a9850', 0.5 '#fee08b', 1 '#d73027')
stats file using 6 nooutput
set cbrange [STATS_min:STATS_max]
set key off
set multiplot layout 1,2
do for [panel = 1:2] {
    o = panel == 1 ? 'adam' : 'adamw'
    set title panel == 1 ? 'Adam + L2 (torch.optim.Adam, weight\_decay = λ)' : 'AdamW (θ ← θ − ηλθ every step)'
    plot file using (sel(o, 4)):5:(0.5):(0.5):6 with boxxyerror fillstyle solid 1.0 noborder linecolor palette, \
         file using (sel(o, 4)):5:(sprintf('%.2f', $6)) with labels font ',9', \
         file using (sel(o, 4) + ($8 > 0 ? 0 : NaN)):5:(0.46):(0.46) with boxxyerror fillstyle empty linecolor rgb 'white' linewidth 3
}
unset multiplot
