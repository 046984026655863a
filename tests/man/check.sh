#!/bin/sh
# Keeps man/clae.1 and man/clae-devices.1 honest: every command that
# `clae --help` lists and every long option of every `clae COMMAND --help`
# appears in clae.1, every long option of `clae-devices --help` in
# clae-devices.1, and groff formats both without a warning.
# Usage: sh tests/man/check.sh BUILD_DIR
set -u
build=${1:-build}
failed=0

# The page's text with roff's \- as -, so "\-\-data" reads "--data".
page_text() { sed 's/\\-/-/g' "$1"; }

# Long options in a --help text (one a line, sorted, without duplicates).
long_options() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }

# expect PAGE WORD...: each WORD appears in PAGE's text.
expect() {
    page=$1
    shift
    text=$(page_text "$page")
    for word in "$@"; do
        if ! printf '%s\n' "$text" | grep -q -F -e "$word"; then
            echo "$page: missing $word"
            failed=$((failed + 1))
        fi
    done
}

# The commands: the first word of each line between "commands:" and the
# next blank line of clae --help.
commands=$("$build/clae" --help |
           sed -n '/^commands:/,/^$/p' | awk 'NF && $1 != "commands:" { print $1 }')
if [ -z "$commands" ]; then
    echo "clae --help lists no commands"
    failed=$((failed + 1))
fi
# The commands clae.1 describes: the first word of each .TP head under
# COMMANDS.
described=$(page_text man/clae.1 |
            awk '/^\.SH/ { in_commands = $2 == "COMMANDS" }
                 in_commands && head { w = $2; gsub(/"/, "", w); print w }
                 { head = $1 == ".TP" }')
for c in $commands; do
    if ! printf '%s\n' "$described" | grep -q -x -F -e "$c"; then
        echo "man/clae.1: command $c not under COMMANDS"
        failed=$((failed + 1))
    fi
    # shellcheck disable=SC2046 # one option a word
    expect man/clae.1 $("$build/clae" "$c" --help | long_options)
done
# shellcheck disable=SC2046
expect man/clae.1 $("$build/clae" --help | long_options)
# shellcheck disable=SC2046
expect man/clae-devices.1 $("$build/clae-devices" --help | long_options)

if command -v groff >/dev/null 2>&1; then
    for page in man/clae.1 man/clae-devices.1; do
        warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
        if [ -n "$warnings" ]; then
            echo "$page: groff says:"; echo "$warnings"
            failed=$((failed + 1))
        fi
    done
else
    echo "groff not installed: the pages' roff is not checked"
fi

if [ "$failed" = 0 ]; then
    echo "man pages: every command and option of --help documented"
fi
[ "$failed" = 0 ]
