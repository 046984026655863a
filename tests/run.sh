#!/bin/sh
# Runs every cmocka suite on the default device (PoCL here), the fault
# sweep, the MPI, man page, install and Python checks, then the own-kernel
# suites again under Oclgrind, which must report nothing.
set -u
failed=0
for t in "$@"; do
    echo "== $t"
    "$t" || failed=$((failed + 1))
done
# Each OpenCL and CLBlast call site of a short training run fails in turn;
# every run must end in a clean error or a full recovery.
echo "== fault sweep"
runs=$(($# + 1))
sh tests/fault/sweep.sh build || failed=$((failed + 1))
# clae train across two MPI ranks against one process, and interrupted.
echo "== mpi"
runs=$((runs + 1))
/usr/bin/python3 tests/mpi/run.py build || failed=$((failed + 1))
# man/*.1 against --help: every command and long option documented.
runs=$((runs + 1)); echo "== man pages"; sh tests/man/check.sh build || failed=$((failed + 1))
# make install into temporary directories, the examples of tools/examples/
# built against them with pkg-config and run, and make uninstall.
runs=$((runs + 1)); echo "== install"; sh tests/install/run.sh || failed=$((failed + 1))
# tools/python/clae.py: its structures against clae.h, its codes against
# clae encode's.
runs=$((runs + 1)); echo "== python"; /usr/bin/python3 tests/python/run.py build || failed=$((failed + 1))
# Every suite under all three checks. Oclgrind 21.10's uninitialised-value
# check stops at LLVM's freeze instruction, which cl/conv.cl's pixel_of
# keeps out of the kernels, and gives a buffer the host never wrote the
# record (and size) of the buffer released before in its place, which
# tests/test_util.h's test_upload avoids by writing every buffer it makes.
oclgrind_suites="test_kernels test_layer_kernels test_random test_conv"
checks="--check-api --data-races --uninitialized"
for s in $oclgrind_suites; do
    runs=$((runs + 1))
    if ! command -v oclgrind >/dev/null 2>&1; then
        echo "oclgrind not installed (make deps installs it)"
        failed=$((failed + 1))
        continue
    fi
    echo "== oclgrind build/tests/$s"
    log=build/oclgrind-$s.log
    rm -f "$log"
    # shellcheck disable=SC2086 # the checks are separate words
    if ! CLAE_TEST_SMALL=1 oclgrind $checks --log "$log" "build/tests/$s"; then
        failed=$((failed + 1))
    elif [ -s "$log" ]; then
        echo "oclgrind reported errors:"; head -50 "$log"
        failed=$((failed + 1))
    else
        echo "oclgrind: no errors"
    fi
done
echo "suites: $((runs - failed)) passed, $failed failed"
[ "$failed" = 0 ]
