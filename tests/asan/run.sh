#!/bin/sh
# Runs the suites of an ASan + UBSan build (make test-asan) on the default
# device (PoCL here): tests/asan/run.sh BUILD_DIR SUITE...
#
# The suites run from BUILD_DIR/run, where `build` points at BUILD_DIR, so
# test_cli and test_vae_cli run the sanitized ./build/clae too; the
# options below reach those children through the environment. Any ASan,
# LSan or UBSan report fails the suite: ASan and UBSan stop the process
# (halt_on_error, and the build's -fno-sanitize-recover), LSan makes it
# exit non-zero. Leaks are suppressed only inside the OpenCL driver stack,
# by tests/asan/lsan.supp (one reason per entry).
#
# Every suite fits: about 5 minutes in all on the 2-core CI machine, plus
# about a minute to build. Seconds per suite, measured there: test_cli 66,
# test_bad_inputs 63, test_program 55 (it compiles every kernel with PoCL's cache empty),
# test_variants 23, test_gradcheck 18, test_vae_cli 17, test_optim 7,
# test_stream 6, test_model_spec 5, test_train 5, test_tune 4, test_blas 2,
# and 1 or less each for test_conv, test_data, test_formats, test_infer,
# test_kernels, test_layer_kernels and test_random.
set -u
b=$1
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
run="$b/run"
mkdir -p "$run"
ln -sfn "$root/$b" "$run/build"
ln -sfn "$root/cl" "$run/cl"
ln -sfn "$root/tests" "$run/tests"

export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$root/tests/asan/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

failed=0
runs=0
for s in "$@"; do
    runs=$((runs + 1))
    echo "== asan $b/tests/$s"
    start=$(date +%s)
    (cd "$run" && "./build/tests/$s") || failed=$((failed + 1))
    echo "== asan $s: $(($(date +%s) - start)) s"
done
echo "asan suites: $((runs - failed)) passed, $failed failed"
[ "$failed" = 0 ]
