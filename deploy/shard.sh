#!/usr/bin/env sh
# One shard of a simulation, as a cluster's array task runs it. Every task gets the same
# arguments; the scheduler says which shard it is:
#   Slurm:       SLURM_ARRAY_TASK_ID (1-based, --array=1-N) and SLURM_ARRAY_TASK_COUNT
#   Kubernetes:  JOB_COMPLETION_INDEX (0-based, Indexed Job) and SHARDS
# The shard writes RESULTS/shard-I/partial.json; `incentive simulate merge` joins them.
#
#   INCENTIVE=incentive RESULTS=/shared/run-1 deploy/shard.sh --policy DIR --members N \
#     --periods N --replications R --seed S
set -eu
if [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
  index=$SLURM_ARRAY_TASK_ID
  count=${SLURM_ARRAY_TASK_COUNT:?SLURM_ARRAY_TASK_COUNT is not set}
elif [ -n "${JOB_COMPLETION_INDEX:-}" ]; then
  index=$((JOB_COMPLETION_INDEX + 1))
  count=${SHARDS:?SHARDS, the Job completions, is not set}
else
  echo "shard.sh: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set" >&2
  exit 2
fi
results=${RESULTS:?RESULTS, a directory every task and the merge can reach, is not set}
exec "${INCENTIVE:-incentive}" simulate "$@" --shard "$index/$count" --out "$results/shard-$index"
