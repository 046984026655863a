#!/bin/sh
# Installs the Debian packages clae needs when some are missing: as root with
# apt-get, otherwise it prints the exact command and stops.
missing=""
if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "deps: not a Debian system; install the equivalents of: $*" >&2
    exit 0
fi
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "clae needs these packages; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "deps: installing$missing"
apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
