#!/bin/sh
# Runs the libFuzzer targets of make fuzz, fuzz-ci and fuzz-regressions:
#   tests/fuzz/run.sh fuzz BUILD_DIR SECONDS TARGET...
#     each target for SECONDS from its seeds (tests/fuzz/corpus/<target>/)
#     and what earlier runs here found (BUILD_DIR/corpus/<target>/, where
#     new inputs go), with tests/fuzz/<target>.dict when there is one. A
#     crash (or leak, UBSan report, timeout, out-of-memory) is copied to
#     tests/fuzz/regressions/<target>/ to be committed and fixed.
#   tests/fuzz/run.sh replay BUILD_DIR 0 TARGET...
#     each target once over every file of tests/fuzz/regressions/<target>/.
# The saved crashes are not fuzzing seeds: one not fixed yet would stop
# every fuzzing run at its start.
set -u
mode=$1 b=$2 seconds=$3
shift 3
here=tests/fuzz
# Leaks count (libFuzzer checks each input); the OpenCL driver's are
# suppressed as in make test-asan (fuzz_model opens PoCL).
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$(pwd)/tests/asan/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
failed=0 runs=0
for t in "$@"; do
    runs=$((runs + 1))
    start=$(date +%s)
    if [ "$mode" = replay ]; then
        set --
        for f in "$here/regressions/$t"/*; do
            [ -f "$f" ] && set -- "$@" "$f"
        done
        if [ $# = 0 ]; then
            echo "== $t: no saved crashes"
            continue
        fi
        echo "== $t: replaying $# saved crashes"
        "$b/$t" -runs=1 "$@" || failed=$((failed + 1))
        continue
    fi
    work="$b/corpus/$t" artifacts="$b/artifacts/$t/"
    mkdir -p "$work" "$artifacts"
    set -- -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts"
    [ -f "$here/$t.dict" ] && set -- "$@" -dict="$here/$t.dict"
    echo "== fuzz $t for $seconds s"
    log="$b/$t.log"
    if "$b/$t" "$@" "$work" "$here/corpus/$t" >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^Done' "$log" | tr '\n' ' '
        echo
    else
        failed=$((failed + 1))
        tail -60 "$log"
        mkdir -p "$here/regressions/$t"
        for a in "$artifacts"*; do
            [ -f "$a" ] || continue
            cp "$a" "$here/regressions/$t/"
            echo "fuzz $t: FAILED; reproducer saved as" \
                "$here/regressions/$t/$(basename "$a")"
        done
    fi
    echo "== $t: $(($(date +%s) - start)) s"
done
echo "fuzz targets: $((runs - failed)) passed, $failed failed"
[ "$failed" = 0 ]
