#!/bin/sh
# Runs every cmocka suite on the default device (PoCL here), then the
# kernel suites again under Oclgrind, which must report nothing.
set -u
failed=0
for t in "$@"; do
    echo "== $t"
    "$t" || failed=$((failed + 1))
done
oclgrind_suites="build/tests/test_kernels build/tests/test_layer_kernels"
if command -v oclgrind >/dev/null 2>&1; then
    for t in $oclgrind_suites; do
        echo "== oclgrind $t"
        log=build/oclgrind.log
        rm -f "$log"
        if ! CLAE_TEST_SMALL=1 oclgrind --check-api --data-races --uninitialized \
                --log "$log" "$t"; then
            failed=$((failed + 1))
        elif [ -s "$log" ]; then
            echo "oclgrind reported errors:"; head -50 "$log"
            failed=$((failed + 1))
        else
            echo "oclgrind: no errors"
        fi
    done
else
    echo "oclgrind not installed (make deps installs it)"; failed=$((failed + 1))
fi
total=$(( $# + $(echo $oclgrind_suites | wc -w) ))
echo "suites: $(( total - failed )) passed, $failed failed"
[ "$failed" = 0 ]
