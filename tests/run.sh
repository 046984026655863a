#!/bin/sh
# Runs every cmocka suite on the default device (PoCL here), then the
# own-kernel suite again under Oclgrind, which must report nothing.
set -u
failed=0
for t in "$@"; do
    echo "== $t"
    "$t" || failed=$((failed + 1))
done
if command -v oclgrind >/dev/null 2>&1; then
    echo "== oclgrind build/tests/test_kernels"
    log=build/oclgrind.log
    rm -f "$log"
    if ! CLAE_TEST_SMALL=1 oclgrind --check-api --data-races --uninitialized \
            --log "$log" build/tests/test_kernels; then
        failed=$((failed + 1))
    elif [ -s "$log" ]; then
        echo "oclgrind reported errors:"; head -50 "$log"
        failed=$((failed + 1))
    else
        echo "oclgrind: no errors"
    fi
else
    echo "oclgrind not installed (make deps installs it)"; failed=$((failed + 1))
fi
echo "suites: $(( $# + 1 - failed )) passed, $failed failed"
[ "$failed" = 0 ]
