#!/bin/sh
# man/splice.sh PAGE BINARY: PAGE with the lines between
# ".\" BEGIN OPTIONS" and ".\" END OPTIONS" replaced by what
# `BINARY help-options --man` prints (the option table of src/conf/table.c),
# on stdout. `make man` writes it back; tests/sh/test-man.sh compares.
set -eu
page=$1 bin=$2
opts=$(mktemp)
trap 'rm -f "$opts"' EXIT
"$bin" help-options --man >"$opts"
[ -s "$opts" ] || { echo "splice.sh: $bin printed no options" >&2; exit 1; }
grep -q '^\.\\" BEGIN OPTIONS' "$page" && grep -q '^\.\\" END OPTIONS' "$page" ||
	{ echo "splice.sh: $page has no BEGIN/END OPTIONS lines" >&2; exit 1; }
awk -v opts="$opts" '
	/^\.\\" BEGIN OPTIONS/ { print; while ((getline l < opts) > 0) print l; skip = 1; next }
	/^\.\\" END OPTIONS/ { skip = 0 }
	!skip { print }
' "$page"
