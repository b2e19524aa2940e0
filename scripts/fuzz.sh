#!/usr/bin/env bash
# Runs attune's libFuzzer targets (fuzz/fuzz_targets/*.rs) one after another for a given number of
# executions each, at the lowest CPU priority, and prints each target's executions and exec/s.
# Not part of CI. Usage: scripts/fuzz.sh [RUNS] [TARGET...]   (RUNS defaults to 1000000,
# targets to all of them). Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain
# (or a stable one with RUSTC_BOOTSTRAP=1). Environment: FUZZ_SANITIZER=address|none (default
# address: also catches any single allocation above FUZZ_MALLOC_MB, default 512).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

runs="${1:-1000000}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(wav manifest stored_manifest kaldi submodel base ct2)
fi
sanitizer="${FUZZ_SANITIZER:-address}"
malloc_mb="${FUZZ_MALLOC_MB:-512}"

if rustup run nightly rustc --version >/dev/null 2>&1; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

# Longest input per target: 64 KiB for binary files, 4 KiB for text tables.
max_len() {
    case "$1" in
        manifest | stored_manifest | kaldi) echo 4096 ;;
        *) echo 65536 ;;
    esac
}

# Release build with debug assertions (overflow checks on): fast, and arithmetic bugs still trap.
nice -n 19 "${fuzz[@]}" build -O -a --sanitizer "$sanitizer"

mkdir -p logs
failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="logs/$t.log"
    echo "== $t: $runs runs (log: fuzz/$log)"
    if nice -n 19 "${fuzz[@]}" run -O -a --sanitizer "$sanitizer" "$t" "corpus/$t" "seeds/$t" -- \
        -runs="$runs" -max_len="$(max_len "$t")" -rss_limit_mb=2048 -malloc_limit_mb="$malloc_mb" \
        -timeout=10 -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"$log" 2>&1; then
        status=ok
    else
        status="FAILED (crash input in fuzz/artifacts/$t/)"
        failed+=("$t")
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "   $t: $execs executions, $rate exec/s: $status"
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "crashes in: ${failed[*]}" >&2
    exit 1
fi
