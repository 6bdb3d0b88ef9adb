#!/usr/bin/env sh
# Joins every shard under RESULTS into RESULTS/merged: the same bytes one machine would have
# written. Fails, naming what is missing, unless every replication is there exactly once.
set -eu
results=${RESULTS:?RESULTS is not set}
# shellcheck disable=SC2046
exec "${INCENTIVE:-incentive}" simulate merge $(ls -d "$results"/shard-*) --out "$results/merged"
