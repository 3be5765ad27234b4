# style.gp -- the one look shared by every figure in the book.
# The Makefile runs, for fmt in svg and png:
#   gnuplot -e "fmt='svg'; outfile='figures/NAME.svg.tmp'; data='build/chNN'" \
#           figures/style.gp chapters/NN-slug/NAME.gp
# so a chapter's script only plots: terminal, fonts, colours and grid come from here.
# To change a figure, edit its .gp script and run `make`; no recompiling needed.

if (!exists("fmt")) fmt = 'svg'
if (!exists("outfile")) outfile = 'figure.' . fmt
if (!exists("data")) data = 'build'
if (!exists("width")) width = 760
if (!exists("height")) height = 460

if (fmt eq 'svg') {
    set terminal svg size width, height dynamic enhanced font 'DejaVu Sans,13' linewidth 1.2 background rgb 'white'
} else {
    set terminal pngcairo size width * 1.5, height * 1.5 enhanced font 'DejaVu Sans,13' linewidth 1.8 background rgb 'white'
}
set output outfile
set encoding utf8

set border 3 linecolor rgb '#555555'
set tics nomirror textcolor rgb '#333333'
set grid linecolor rgb '#e0e0e0' linewidth 1 dashtype solid
set key noautotitle box linecolor rgb '#cccccc' opaque samplen 2.5 spacing 1.2
set datafile separator tab
set datafile missing 'nan'

# One meaning per colour across the book: too small, just right, too large, theory.
c_small = '#1f77b4'
c_right = '#2ca02c'
c_large = '#d62728'
c_other = '#ff7f0e'
c_extra = '#9467bd'
c_theory = '#222222'
c_faint = '#b0b0b0'
set linetype 1 linecolor rgb c_small linewidth 2 pointtype 7 pointsize 0.6
set linetype 2 linecolor rgb c_right linewidth 2 pointtype 7 pointsize 0.6
set linetype 3 linecolor rgb c_large linewidth 2 pointtype 7 pointsize 0.6
set linetype 4 linecolor rgb c_other linewidth 2 pointtype 7 pointsize 0.6
set linetype 5 linecolor rgb c_extra linewidth 2 pointtype 7 pointsize 0.6
set linetype 6 linecolor rgb c_theory linewidth 1.5 dashtype 2
