#!/bin/sh
# make install and make uninstall, and the two examples of tools/examples/
# built against the installed tree with pkg-config, as a user builds them.
#  1. DESTDIR=<tmp>/stage PREFIX=/usr/local: install puts exactly the
#     expected files there, uninstall removes them all (directories stay).
#  2. PREFIX=<tmp>/prefix: train_encode and score built with `pkg-config
#     --cflags --libs clae` (against libclae.so) and with `pkg-config
#     --static --libs clae` and libclae.a; train_encode trains and saves a
#     model, score scores with it; both builds must print the same numbers
#     (same device, same seed) and the static one must not need libclae.so.
# Nothing is read from the source tree at run time (the kernels are in the
# library): the programs run in the temporary directory, CLAE_KERNEL_DIR
# unset. About 10 s here, most of it the two training runs.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset CLAE_KERNEL_DIR
fail() { echo "install test: $*"; exit 1; }
mk() { make -s --no-print-directory "$@" >"$tmp/make.log" 2>&1 ||
    { cat "$tmp/make.log"; fail "make $* failed"; }; }
files_under() { (cd "$1" && find . ! -type d | sort); }

version=$(sed -n 's/.*define CLAE_VERSION_STRING "\(.*\)".*/\1/p' include/clae.h)
expected="./usr/local/bin/clae
./usr/local/bin/clae-devices
$(for h in include/*.h; do echo "./usr/local/$h"; done)
./usr/local/lib/libclae.a
./usr/local/lib/libclae.so
./usr/local/lib/libclae.so.${version%%.*}
./usr/local/lib/libclae.so.$version
./usr/local/lib/pkgconfig/clae.pc
$(for m in man/*.1; do [ -e "$m" ] && echo "./usr/local/share/$m"; done)"
expected=$(echo "$expected" | sed 's,/share/man/,/share/man/man1/,' | grep . | sort)

echo "make install DESTDIR=$tmp/stage PREFIX=/usr/local"
mk install DESTDIR="$tmp/stage" PREFIX=/usr/local
got=$(files_under "$tmp/stage")
[ "$got" = "$expected" ] || {
    echo "expected:"; echo "$expected"; echo "installed:"; echo "$got"
    fail "install put other files than expected"; }
[ "$(readlink "$tmp/stage/usr/local/lib/libclae.so")" = \
    "libclae.so.${version%%.*}" ] || fail "libclae.so links elsewhere"
mk uninstall DESTDIR="$tmp/stage" PREFIX=/usr/local
got=$(files_under "$tmp/stage")
[ -z "$got" ] || { echo "$got"; fail "uninstall left files"; }

prefix=$tmp/prefix
echo "make install PREFIX=$prefix; the examples against it"
mk install PREFIX="$prefix"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
[ "$(pkg-config --modversion clae)" = "$version" ] ||
    fail "pkg-config --modversion clae is not $version"
# The shared build: -lclae finds libclae.so, which finds its own libraries.
# The static build: libclae.a instead of -lclae, then what it needs.
static_libs=
for flag in $(pkg-config --static --libs clae); do
    [ "$flag" = -lclae ] || static_libs="$static_libs $flag"
done
for ex in train_encode score minimal; do
    # shellcheck disable=SC2046 # pkg-config's flags are separate words
    cc -std=c11 -Wall -Wextra -Werror -o "$tmp/$ex-shared" \
        "tools/examples/$ex.c" $(pkg-config --cflags --libs clae) ||
        fail "$ex does not build against libclae.so"
    # shellcheck disable=SC2046,SC2086
    cc -std=c11 -Wall -Wextra -Werror -o "$tmp/$ex-static" \
        "tools/examples/$ex.c" $(pkg-config --cflags clae) \
        "$prefix/lib/libclae.a" $static_libs ||
        fail "$ex does not build against libclae.a"
    readelf -d "$tmp/$ex-shared" | grep -q 'NEEDED.*libclae\.so\.' ||
        fail "$ex-shared does not use libclae.so"
    if readelf -d "$tmp/$ex-static" | grep -q 'NEEDED.*libclae'; then
        fail "$ex-static needs libclae.so"
    fi
done

cd "$tmp"
for kind in shared static; do
    lib=
    [ "$kind" = shared ] && lib=$prefix/lib
    echo "== train_encode-$kind model-$kind.safetensors"
    LD_LIBRARY_PATH=$lib "./train_encode-$kind" "model-$kind.safetensors" \
        >"train-$kind.out" || { cat "train-$kind.out"; fail "train_encode-$kind failed"; }
    cat "train-$kind.out"
    echo "== score-$kind model-$kind.safetensors"
    LD_LIBRARY_PATH=$lib "./score-$kind" "model-$kind.safetensors" \
        >"score-$kind.out" || { cat "score-$kind.out"; fail "score-$kind failed"; }
    cat "score-$kind.out"
    # 8 epochs; the codes' shape; a loss below a tenth of the data's
    # variance (0.0117, the loss of predicting the mean); the three rows
    # scored, the zigzag, unlike the training data, at least 100 times
    # higher than the two others.
    awk '/^epoch [0-9]+  train_loss/ { e++ }
         /^codes 2000 x 2;/ { c = 1 }
         /^reconstruction loss / { l = $3 }
         /^saved / { s = 1 }
         END { exit !(e == 8 && c && l != "" && l < 0.001 && s) }' \
        "train-$kind.out" || fail "train_encode-$kind printed the wrong thing"
    awk '$3 == "flat" || $3 == "ramp" { if ($5 > low) low = $5 }
         $3 == "zigzag" { z = $5 }
         END { exit !(z != "" && low != "" && z > 100 * low) }' \
        "score-$kind.out" || fail "score-$kind scored the rows wrongly"
done
# The README's minimal program: 3 epochs, then a code.
echo "== minimal-shared"
LD_LIBRARY_PATH=$prefix/lib ./minimal-shared >minimal.out ||
    { cat minimal.out; fail "minimal failed"; }
cat minimal.out
awk '/^epoch [0-9]+  train_loss/ { e++ } /^code of image 0: / { c = 1 }
     END { exit !(e == 3 && c) }' minimal.out ||
    fail "minimal printed the wrong thing"
# Everything but the epochs' seconds and the file name is the same.
for out in train score; do
    sed 's/seconds.*//; s/-shared//' "$out-shared.out" >"$out-shared.cmp"
    sed 's/seconds.*//; s/-static//' "$out-static.out" >"$out-static.cmp"
    cmp -s "$out-shared.cmp" "$out-static.cmp" ||
        fail "the shared and static builds of $out printed different numbers"
done
cd - >/dev/null

mk uninstall PREFIX="$prefix"
got=$(files_under "$prefix")
[ -z "$got" ] || { echo "$got"; fail "uninstall left files in $prefix"; }
echo "install test: passed"
