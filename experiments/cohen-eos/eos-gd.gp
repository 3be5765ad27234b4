# Figure: plain full-batch GD at several learning rates (experiments/cohen-eos; see eos.gp).
files = 'trace-gd.tsv'
prefixes = 'gd'
names = 'GD'
load 'experiments/cohen-eos/eos.gp'
