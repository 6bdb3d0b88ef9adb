#!/usr/bin/env bash
# Builds every fuzz target with cargo-fuzz (libFuzzer, nightly) and runs each for a bounded time
# on a copy of its seed corpus (so a run never grows fuzz/corpus/) with its dictionary of
# tokens from fuzz/dict/ (keys, keywords and function names the input language knows).
# Prints a Markdown table of executions and findings per target; exits 1 if any target
# found a crash, hang or OOM.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]        (default 60)
#   TARGETS="readings_csv policy_script" fuzz/run.sh 30    (a subset)
#
# Findings are kept in fuzz/artifacts/<target>/ (ignored by git); minimise one with
#   cargo +nightly fuzz tmin <target> fuzz/artifacts/<target>/<file>
set -uo pipefail

seconds="${1:-60}"
case "$seconds" in
    '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;;
esac
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root" || exit 2

if ! cargo fuzz --version > /dev/null 2>&1; then
    echo "installing cargo-fuzz…" >&2
    cargo install cargo-fuzz --locked || cargo install cargo-fuzz || exit 2
fi

cargo +nightly fuzz build || exit 2

targets="${TARGETS:-$(cargo +nightly fuzz list)}"
work="$(mktemp -d "${TMPDIR:-/tmp}/incentive-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp"

rows=()
found_any=0
for target in $targets; do
    corpus="$work/corpus/$target"
    artifacts="$work/artifacts/$target"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "$here/corpus/$target" ]; then
        cp -R "$here/corpus/$target/." "$corpus/"
    fi
    dict=()
    if [ -f "$here/dict/$target.dict" ]; then
        dict=(-dict="$here/dict/$target.dict")
    fi
    log="$work/$target.log"
    echo "== $target: ${seconds}s" >&2
    # TMPDIR: where the api_bodies target keeps its SQLite file; removed with $work.
    TMPDIR="$work/tmp" cargo +nightly fuzz run "$target" "$corpus" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${dict[@]}" > "$log" 2>&1
    status=$?
    executions="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')"
    findings=()
    for f in "$artifacts"/crash-* "$artifacts"/timeout-* "$artifacts"/oom-* "$artifacts"/leak-*; do
        [ -e "$f" ] || continue
        findings+=("$(basename "$f")")
        mkdir -p "$here/artifacts/$target"
        cp "$f" "$here/artifacts/$target/"
    done
    if [ "${#findings[@]}" -gt 0 ]; then
        found_any=1
        summary="${#findings[@]}: ${findings[*]}"
        echo "-- $target found ${findings[*]}; its log:" >&2
        grep -v '^#[0-9]' "$log" | tail -40 >&2
    elif [ "$status" -ne 0 ]; then
        # Stopped without an artifact (the build, or libFuzzer itself): a failure too.
        found_any=1
        summary="run failed (exit $status)"
        echo "-- $target exited $status without an artifact; its log:" >&2
        tail -40 "$log" >&2
    else
        summary="0"
    fi
    rows+=("| $target | $seconds | ${executions:-?} | $summary |")
    echo "-- $target: ${executions:-?} executions, findings: $summary" >&2
done

echo
echo "| target | seconds | executions | findings |"
echo "|---|---:|---:|---|"
printf '%s\n' "${rows[@]}"
exit "$found_any"
