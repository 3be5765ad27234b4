#!/bin/sh
# sweep-slurm.sh -- a sweep on a Slurm cluster: a job array whose task K runs shard K of
# N of the grid into its own table; `sweep merge` joins the tables afterwards.
#
#   N=16
#   jid=$(sbatch --parsable --array=0-$((N-1)) tools/sweep-slurm.sh $N sweeps/lr \
#           --lr 1e-4:1:4 --optim 'sgd:momentum=0.9;adam' --seeds 3 --epochs 5)
#   sbatch --dependency=afterok:$jid --wrap "build/bin/sweep merge sweeps/lr.tsv sweeps/lr/shard-*.tsv"
#
# Usage: tools/sweep-slurm.sh N OUTDIR SWEEP-OPTIONS...   (under sbatch --array=0-(N-1))
# N is given, not read from the array, so that one task can be run again alone
# (sbatch --array=5 ...): a task that was preempted or hit its time limit resumes its
# table and skips the points it finished. Each task trains as many points at once as it
# has CPUs (--cpus-per-task). The directives below are defaults; sbatch's own options
# override them. SWEEP names the program (default build/bin/sweep, from the directory
# sbatch was run in). See tools/SWEEP.md.
#SBATCH --job-name=sweep
#SBATCH --cpus-per-task=4
#SBATCH --time=04:00:00
#SBATCH --output=slurm-sweep-%A_%a.out
set -eu
if [ $# -lt 2 ]; then
  echo "sweep-slurm.sh: usage: sbatch --array=0-(N-1) tools/sweep-slurm.sh N OUTDIR SWEEP-OPTIONS..." >&2
  exit 2
fi
n=$1
out=$2
shift 2
k=${SLURM_ARRAY_TASK_ID:-}
if [ -z "$k" ]; then
  echo "sweep-slurm.sh: SLURM_ARRAY_TASK_ID is not set: submit it with sbatch --array=0-$((n - 1))" >&2
  exit 2
fi
# --workers first, so that the options given can override it; --shard and --out last,
# so that they cannot.
exec "${SWEEP:-build/bin/sweep}" --workers "${SLURM_CPUS_PER_TASK:-0}" "$@" \
  --shard "$k/$n" --out "$out/shard-$k.tsv"
