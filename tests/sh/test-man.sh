#!/usr/bin/env bash
# The manual pages s3root(8) and mkinitramfs-s3root(8): the OPTIONS list of
# s3root(8) is what the binary prints from its option table (`make man`
# writes it, so the page and --help cannot drift); every command of
# `s3root --help` and every option of mkinitramfs-s3root has an entry;
# groff -ww finds nothing to warn about and man -l renders both.
# (no TLS here: the mbedTLS build would show nothing new)
# suites: bearssl san
set -eu
. "$(dirname "$0")/functions.sh"
requires groff man

cd "$TOP"
"$TOP/man/splice.sh" man/s3root.8 "$S3ROOT" >"$T/s3root.8"
diff -u man/s3root.8 "$T/s3root.8" >&2 ||
	fail "man/s3root.8's OPTIONS differ from the option table (run make man)"
"$S3ROOT" help-options | sed -n 's/^  \([a-z0-9_.]*\)=.*/\1/p' >"$T/keys"
[ "$(wc -l <"$T/keys")" -ge 30 ] || fail "help-options lists $(wc -l <"$T/keys") keys"
while read -r k; do
	grep -qF "\\fB$k\\fR=" man/s3root.8 || fail "option $k is not in s3root(8)"
done <"$T/keys"

# every command has its paragraph: ".TP" then ".B NAME"
"$S3ROOT" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' >"$T/commands"
[ "$(wc -l <"$T/commands")" -ge 10 ] || fail "--help lists too few commands"
while read -r c; do
	grep -A1 '^\.TP$' man/s3root.8 | grep -qx ".B ${c//-/\\\\-}" ||
		fail "command $c has no entry under COMMANDS in s3root(8)"
done <"$T/commands"
# and every option mkinitramfs-s3root takes
sed -n 's/^\t\(-[-a-z]*\)) .*/\1/p; s/^\t\(-[-a-z]*\) | .*/\1/p' \
	initramfs/mkinitramfs-s3root | grep -v '^-h$' >"$T/mkopts"
[ "$(wc -l <"$T/mkopts")" -ge 8 ] || fail "mkinitramfs-s3root: $(cat "$T/mkopts")"
while read -r o; do
	grep -q "^\.BI\? ${o//-/\\\\-}\( \|$\)" man/mkinitramfs-s3root.8 ||
		fail "mkinitramfs-s3root option $o is not in its page"
done <"$T/mkopts"

for p in man/s3root.8 man/mkinitramfs-s3root.8; do
	groff -ww -man -z "$p" 2>"$T/warn" || fail "groff failed on $p"
	[ ! -s "$T/warn" ] || fail "groff -ww warns on $p: $(cat "$T/warn")"
	MANWIDTH=80 man -l "$p" >"$T/page" 2>"$T/warn" || fail "man -l $p"
	[ ! -s "$T/warn" ] || fail "man -l $p: $(cat "$T/warn")"
	grep -q '^NAME' "$T/page" && grep -q '^EXIT STATUS' "$T/page" ||
		fail "$p does not render"
done
MANWIDTH=80 man -l man/s3root.8 >"$T/page"
grep -q '^       s3.prefetch=none|all$' "$T/page" ||
	fail "the rendered s3root(8) has no option list"
echo "manual pages: ok ($(wc -l <"$T/keys") options, $(wc -l <"$T/commands") commands)"
