# Figure: full-batch GD with heavy-ball and Nesterov momentum β = 0.9 (experiments/cohen-eos;
# see eos.gp): limit/η with limit 2(1+β) for heavy ball, (2+2β)/(1+2β) for Nesterov.
files = 'trace-hb.tsv trace-nag.tsv'
prefixes = 'hb nag'
names = 'heavy-ball Nesterov'
load 'experiments/cohen-eos/eos.gp'
