#!/bin/sh
# The fault-injection sweep (make test; issue 8): every OpenCL and CLBlast
# call site that a short training run and an encode reach fails once in
# turn, through BUILD_DIR/libclfault.so (tests/fault/clfault.c). Scenarios:
# train with clae's kernel cache empty (kernels built from source and
# cached), train with it full (kernels loaded from it), train with the data
# streamed in chunks (a device-memory budget smaller than the data), and
# encode. A site
# is swept in the first scenario that reaches it. Every faulted run must
# end in one of two ways:
#   - exit 1 with clae's one-line error naming the failed function and its
#     error (e.g. "clCreateBuffer(...): CL_MEM_OBJECT_ALLOCATION_FAILURE"),
#     the model file not written and no temporary file left behind;
#   - exit 0 with the same model, checkpoint, metrics and codes as the run
#     without a fault, where clae recovers (a warning names the fault),
#     or silently where recovering is its design (SILENT_RECOVERY below);
# and in both cases without a crash and with every OpenCL object clae
# created released exactly once (the injector's report).
# Usage: tests/fault/sweep.sh BUILD_DIR; every run's files stay in
# BUILD_DIR/fault/<scenario>-<site>/, the table in BUILD_DIR/fault/sweep.txt.
set -u
b=$1
root=$(pwd)
clae="$root/$b/clae"
shim="$root/$b/libclfault.so"
out="$root/$b/fault"
rm -rf "$out"
mkdir -p "$out"

# Faults that clae recovers from without a word, by design, as
# "C-function:failed-call": a kernel binary in the cache that the driver
# will not load (a driver update makes them stale) is rebuilt from source.
SILENT_RECOVERY="load_cached:clCreateProgramWithBinary"

# Kernel builds go to a scenario's own cache (XDG_CACHE_HOME); PoCL's
# compiled kernels stay where they are, or every run would take minutes.
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pocl}"

# 320 samples of 16 values on a closed curve (one angle per sample).
awk 'BEGIN {
    srand(1)
    for (i = 0; i < 320; i++) {
        a = 6.2832 * rand(); line = ""
        for (j = 0; j < 16; j++)
            line = line (j ? "," : "") sprintf("%.4f", 0.5 + 0.4 * sin(a + 0.4 * j))
        print line
    }
}' >"$out/data.csv"

# scenario NAME DIR: runs scenario NAME, its outputs in DIR.
scenario() {
    case $1 in
    train-stream)
        "$clae" train --data "$out/data.csv" --hidden 8 --epochs 2 \
            --batch-size 64 --device-memory 8K --save "$2/model.safetensors" ;;
    train-*)
        "$clae" train --data "$out/data.csv" --val-split 0.25 --hidden 8 \
            --epochs 2 --batch-size 64 --save "$2/model.safetensors" \
            --checkpoint "$2/checkpoint.safetensors" \
            --metrics "$2/metrics.csv" --profile ;;
    encode)
        "$clae" encode --load "$out/train-cold-none/model.safetensors" \
            --data "$out/data.csv" --out "$2/codes.npy" ;;
    esac
}

# attempt SCENARIO SITE: runs SCENARIO under the injector in
# $out/SCENARIO-SITE with SITE failing (none: no fault); sets dir and rc.
attempt() {
    dir="$out/$1-$2"
    mkdir -p "$dir"
    cache="$out/warm-cache"
    [ "$1" = train-cold ] && cache="$dir/cache"
    (
        cd "$dir" || exit 99
        [ "$2" = none ] && export CLFAULT_SITES="$dir/sites"
        [ "$2" = none ] || export CLFAULT_FAIL="$2"
        export CLFAULT_REPORT="$dir/report" XDG_CACHE_HOME="$cache"
        export LD_PRELOAD="$shim"
        scenario "$1" "$dir" >"$dir/stdout" 2>"$dir/stderr"
    )
    rc=$?
}

# The files a scenario writes, compared between a recovered run and the
# clean one (the metrics without their seconds column).
same_outputs() {
    for f in model.safetensors checkpoint.safetensors codes.npy; do
        [ -e "$1/$f" ] || [ -e "$2/$f" ] || continue
        cmp -s "$1/$f" "$2/$f" || return 1
    done
    [ -e "$1/metrics.csv" ] || return 0
    [ "$(cut -d, -f1-3 "$1/metrics.csv")" = "$(cut -d, -f1-3 "$2/metrics.csv")" ]
}

# verdict SCENARIO SITE FUNCTION WHERE: judges the faulted run in $dir;
# sets result (ok-error, ok-recovered or FAIL) and why.
verdict() {
    clean="$out/$1-none"
    error=$(sed -n 's/^injected [^ ]* \([^ ]*\) at .*/\1/p' "$dir/report" 2>/dev/null)
    message=$(grep "^clae [a-z-]*: " "$dir/stderr" | head -1)
    named=$(grep "$3" "$dir/stderr" | grep -c "$error")
    result=FAIL
    if [ -z "$error" ]; then
        why="the run never reached the site"
    elif [ "$rc" -ge 128 ]; then
        why="killed by signal $((rc - 128))"
    elif grep -q "^leaked\|^over-released" "$dir/report"; then
        why=$(grep "^leaked\|^over-released" "$dir/report" | sort | uniq -c |
            paste -sd ';' -)
    elif ls "$dir" | grep -q '\.tmp'; then
        why="a temporary file was left behind"
    elif [ "$rc" = 1 ]; then
        if [ -e "$dir/model.safetensors" ]; then
            why="exit 1 but the model file was written"
        elif [ -z "$message" ] || [ "$named" = 0 ]; then
            why="the error does not name $3 and $error: ${message:-no message}"
        else
            result=ok-error why=$message
        fi
    elif [ "$rc" = 0 ]; then
        if ! same_outputs "$dir" "$clean"; then
            why="exit 0 with outputs unlike the run without a fault"
        elif [ "$named" != 0 ]; then
            result=ok-recovered why=$(grep "$3" "$dir/stderr" | head -1)
        elif echo " $SILENT_RECOVERY " | grep -q " $4:$3 "; then
            result=ok-recovered why="silently, by design"
        else
            why="exit 0 without a word about the failed $3"
        fi
    else
        why="exit $rc: ${message:-no message}"
    fi
}

failed=0
sites=0
for s in train-cold train-warm train-stream encode; do
    attempt "$s" none
    if [ "$rc" != 0 ] || [ -s "$dir/report" ]; then
        echo "fault sweep: $s fails without a fault (exit $rc):"
        cat "$dir/stderr" "$dir/report" 2>/dev/null
        exit 1
    fi
    [ "$s" = train-cold ] && cp -r "$dir/cache" "$out/warm-cache"
    while read -r site function; do
        grep -q "^$site " "$out/swept" 2>/dev/null && continue
        echo "$site $function" >>"$out/swept"
        where=$(addr2line -e "$clae" -f -i -s "$site" | paste -sd ' ' -)
        attempt "$s" "$site"
        verdict "$s" "$site" "$function" "${where%% *}"
        sites=$((sites + 1))
        [ "$result" = FAIL ] && failed=$((failed + 1))
        printf '%-12s %-10s %-8s %-32s %s\n  exit %s: %s\n' "$result" "$s" \
            "$site" "$function" "$where" "$rc" "$why" >>"$out/sweep.txt"
    done <"$out/$s-none/sites"
done

errors=$(grep -c '^ok-error' "$out/sweep.txt")
recovered=$(grep -c '^ok-recovered' "$out/sweep.txt")
echo "fault sweep: $sites call sites failed in turn: $errors clean errors," \
    "$recovered recovered, $failed failed (table: $b/fault/sweep.txt)"
if [ "$failed" != 0 ]; then
    grep -A1 '^FAIL' "$out/sweep.txt"
    exit 1
fi
