#!/usr/bin/env bash
# Fuzzes the job-file loader, `runner::plan_text` (fuzz/fuzz_targets/load.rs), for SECONDS
# (default 600): it must never panic, hang or use unbounded memory, whatever the input.
#
# Run by hand, not by CI: it needs a nightly toolchain, installs cargo-fuzz when it is missing,
# and takes as long as it is told to.
#
#   scripts/fuzz.sh [SECONDS] [LIBFUZZER_FLAG...]
#
# The checked-in seeds (fuzz/seeds/: every job of jobs/ and the inputs the tests use) are copied
# into the working corpus fuzz/corpus/load/, which is git-ignored and grows from run to run.
# Crashes, timeouts and out-of-memory inputs land in fuzz/artifacts/load/ with the run's log;
# reproduce one with `cargo +nightly fuzz run load fuzz/artifacts/load/FILE` and minimise it with
# `cargo +nightly fuzz tmin load fuzz/artifacts/load/FILE` (both from fuzz/).
#
# Environment: FUZZ_TOOLCHAIN (default nightly); FUZZ_SANITIZER (address, the default, or none:
# about 1.3x the executions, and a tenth of the memory); FUZZ_EXCLUDE="SEED..." leaves those
# seeds out of the run (a known crash, say); FUZZ_KEEP_GOING=1 runs libFuzzer in fork mode and
# carries on past crashes, timeouts and OOMs (each still saved as an artifact) instead of
# stopping at the first. Extra flags go to libFuzzer: `-fork=2` fuzzes on two cores.
set -euo pipefail

seconds=${1:-600}
shift || true
toolchain=${FUZZ_TOOLCHAIN:-nightly}
sanitizer=${FUZZ_SANITIZER:-address}
fuzz_dir="$(cd "$(dirname "$0")/../fuzz" && pwd)"
cd "$fuzz_dir"

if ! cargo "+$toolchain" fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz
fi
# Start from the main lockfile, so that the fuzzed dependencies are the ones runner ships with.
[ -f Cargo.lock ] || cp ../Cargo.lock Cargo.lock

build_flags=(--release --debug-assertions --sanitizer "$sanitizer")
cargo "+$toolchain" fuzz build "${build_flags[@]}" load

corpus=corpus/load
artifacts=artifacts/load
mkdir -p "$corpus" "$artifacts"
for seed in seeds/*; do
    [ -e "$corpus/${seed##*/}" ] || cp "$seed" "$corpus/"
done
# FUZZ_EXCLUDE: names of seeds to leave out of this run (a known crash or timeout, say).
for name in ${FUZZ_EXCLUDE:-}; do
    rm -f "$corpus/$name"
done
before=$(find "$artifacts" -type f ! -name '*.log' | sort)

keep_going=()
if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
    keep_going=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi
log="$artifacts/fuzz-$(date +%Y%m%d-%H%M%S).log"
echo "fuzz.sh: fuzzing for ${seconds}s; log in fuzz/$log" >&2
started=$(date +%s)
set +e
cargo "+$toolchain" fuzz run "${build_flags[@]}" load "$corpus" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=16384 -print_final_stats=1 \
    "${keep_going[@]}" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
ended=$(date +%s)

echo
echo "==== fuzz summary (exit status $status, $((ended - started)) s) ===="
# The last status line libFuzzer printed (executions, cov, ft, corpus), and its final stats
# (fork mode prints none).
grep -E '^#[0-9]+' "$log" | tail -n 1 || true
grep -E '^stat::' "$log" || true
echo "corpus: $(find "$corpus" -type f | wc -l) files in fuzz/$corpus ($(du -sh "$corpus" | cut -f1))"
new=$(comm -13 <(echo "$before") <(find "$artifacts" -type f ! -name '*.log' | sort) | sed '/^$/d')
if [ -n "$new" ]; then
    echo "new artifacts (crash-, timeout-, oom-, slow-unit-):"
    echo "$new" | sed 's/^/  fuzz\//'
else
    echo "new artifacts: none"
fi
exit "$status"
