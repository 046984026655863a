#!/bin/sh
# Measures how long `clae train` takes from start through its first batch:
# one epoch over a single batch of 256 Fashion-MNIST images, first with
# empty kernel caches (PoCL's and clae's, in temporary directories, so the
# user's caches are untouched), then twice more with the caches filled.
# Usage: tools/start-time.sh [build/clae]
set -eu
clae=${1:-build/clae}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A 256-image IDX file: the header with N = 256, then the first images.
{
    printf '\000\000\010\003\000\000\001\000\000\000\000\034\000\000\000\034'
    zcat /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz |
        tail -c +17 | head -c $((256 * 784))
} > "$tmp/one-batch.idx"
export POCL_CACHE_DIR="$tmp/pocl" XDG_CACHE_HOME="$tmp/xdg"
for start in cold warm warm; do
    /usr/bin/time -f "$start start to the end of the first batch: %e s" \
        "$clae" train --data "$tmp/one-batch.idx" --epochs 1 >/dev/null
done
