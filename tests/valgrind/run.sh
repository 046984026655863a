#!/bin/sh
# make valgrind: memcheck over the host code, clean or failing:
#   tests/valgrind/run.sh BUILD_DIR "SUITE..." "TARGET..."
# 1. The suites whose tests are the host code (the data readers, model
#    files, spec parser, atomic writes, PNG and charts), from the normal
#    build. No suite is free of a device: each opens one in its group setup
#    and most tests need it: with no OpenCL platform, 17 of the 192 tests
#    run today (12 of test_data's, 3 of test_optim's, 2 of test_vae_cli's)
#    and the rest skip. These open PoCL, whose driver-side reports
#    tests/valgrind/valgrind.supp suppresses, one reason an entry.
# 2. The fuzz targets built with tests/fuzz/replay.c's main instead of
#    libFuzzer, over their seed corpora and saved crashes: the IDX, .npy,
#    CSV and spec readers, with no device at all. Not fuzz_model, which
#    opens PoCL (test_data loads model files under memcheck).
# Cost here (2 cores): test_data 16 s and test_formats 18 s under
# memcheck; the suites that train are far slower under it (test_model_spec
# 205 s, test_optim more than 15 minutes), so they are left to make
# test-asan.
set -u
b=$1 suites=$2 targets=$3
vg="valgrind --error-exitcode=1 --leak-check=full \
--errors-for-leak-kinds=definite,possible --show-leak-kinds=definite,possible \
--suppressions=tests/valgrind/valgrind.supp --num-callers=30"
mkdir -p "$b/valgrind"
failed=0 runs=0
check() { # name, command...
    name=$1
    shift
    runs=$((runs + 1))
    log="$b/valgrind/$name.log"
    start=$(date +%s)
    echo "== valgrind $*"
    # shellcheck disable=SC2086 # vg is separate words
    if $vg --log-file="$log" "$@" >"$b/valgrind/$name.out" 2>&1; then
        tail -1 "$b/valgrind/$name.out"
        echo "== $name: clean, $(($(date +%s) - start)) s"
    else
        failed=$((failed + 1))
        tail -20 "$b/valgrind/$name.out"
        grep -v '^==[0-9]*== *$' "$log" | head -150
        echo "== $name: FAILED (memcheck log: $log)"
    fi
}
for s in $suites; do
    check "$s" "$b/tests/$s"
done
for t in $targets; do
    set -- "tests/fuzz/corpus/$t"
    [ -d "tests/fuzz/regressions/$t" ] && set -- "$@" "tests/fuzz/regressions/$t"
    check "$t" "$b/fuzz-replay/$t" "$@"
done
echo "valgrind runs: $((runs - failed)) passed, $failed failed"
[ "$failed" = 0 ]
