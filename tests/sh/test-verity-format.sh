#!/usr/bin/env bash
# s3root verity-format against Debian's veritysetup (cryptsetup-bin): the
# tree it writes, appended or in a file of its own, is accepted by
# `veritysetup verify` and refused after a flipped byte; `veritysetup
# format` of the same image with the same salt gives the same root hash;
# known answers; bad arguments get one clear line. No kernel, no server.
# (no TLS here: the mbedTLS build would show nothing new)
# suites: bearssl san
set -eu
. "$(dirname "$0")/functions.sh"
requires veritysetup mkfs.erofs

# an EROFS image of a few hundred blocks, and a copy for each layout
mkdir -p "$T/r"
head -c 3000000 /dev/urandom >"$T/r/blob"
cp -r "$TOP/crypto" "$T/r/src"
mkfs.erofs "$T/img" "$T/r" >/dev/null
size=$(stat -c %s "$T/img")
cp "$T/img" "$T/app"

# root hash of `veritysetup format`'s output
vs_root() { sed -n 's/^Root hash:[[:space:]]*//p'; }
# field NAME FILE: a line of verity-format's output
field() { sed -n "s/^$1: //p" "$2"; }

"$S3ROOT" verity-format "$T/app" --appended >"$T/app.out"
cat "$T/app.out"
root=$(field 'root hash' "$T/app.out")
salt=$(field salt "$T/app.out")
[ "$(field 'hash offset' "$T/app.out")" = "$size" ] ||
	fail "appended: the hash offset is not the image's size"
[ ${#salt} = 64 ] || fail "appended: not a 32-byte random salt"
cmp -n "$size" "$T/img" "$T/app" || fail "appended: the data was changed"
veritysetup verify "$T/app" "$T/app" "$root" --hash-offset="$size" ||
	fail "veritysetup verify refuses the appended tree"
vs=$(veritysetup format "$T/img" "$T/vs.tree" --salt "$salt" | vs_root)
[ "$vs" = "$root" ] || fail "veritysetup format: $vs, s3root: $root"
echo "veritysetup agrees: $vs"

# the tree in a file of its own, a salt given, and no salt at all
before=$(sha256sum <"$T/img")
"$S3ROOT" verity-format "$T/img" --output "$T/tree" --salt 00112233 >"$T/out.out"
root2=$(field 'root hash' "$T/out.out")
[ "$(field 'hash offset' "$T/out.out")" = 0 ] || fail "output: offset not 0"
[ "$(sha256sum <"$T/img")" = "$before" ] || fail "--output changed the image"
veritysetup verify "$T/img" "$T/tree" "$root2" ||
	fail "veritysetup verify refuses the tree file"
vs=$(veritysetup format "$T/img" "$T/vs.tree" --salt 00112233 | vs_root)
[ "$vs" = "$root2" ] || fail "salt 00112233: veritysetup $vs, s3root $root2"
"$S3ROOT" verity-format "$T/img" --output "$T/tree0" --salt - >"$T/nosalt.out"
vs=$(veritysetup format "$T/img" "$T/vs.tree" --salt - | vs_root)
[ "$vs" = "$(field 'root hash' "$T/nosalt.out")" ] || fail "no salt: differs"
db=$(field 'data blocks' "$T/out.out")
hb=$(((db + 127) / 128 + 1)) # two levels for these sizes
[ "$(field 'hash blocks' "$T/out.out")" = $hb ] || fail "not $hb hash blocks"
veritysetup dump "$T/tree" | grep -q "Hash blocks:[[:space:]]*$hb\$" ||
	fail "veritysetup dump: not the $hb hash blocks of $db data blocks"

# known answers (veritysetup format --salt 00112233): two zero blocks;
# a partial last block is zero-filled, as the NBD device shows the image
# (veritysetup on the plain file would drop it: one block)
head -c 8192 /dev/zero >"$T/z2"
"$S3ROOT" verity-format "$T/z2" --output "$T/z2.tree" --salt 00112233 |
	grep -qx 'root hash: 816577a59c2afee79f589f2da71764d6d55bb77d6c299046978f111dd8a11a95' ||
	fail "two zero blocks: wrong root hash"
head -c 5000 /dev/zero >"$T/z5000"
"$S3ROOT" verity-format "$T/z5000" --output "$T/z5000.tree" --salt 00112233 |
	grep -qx 'root hash: 816577a59c2afee79f589f2da71764d6d55bb77d6c299046978f111dd8a11a95' ||
	fail "5000 zero bytes: not the root of two zero blocks"

# a flipped byte in the data or the tree: veritysetup refuses it
cp "$T/app" "$T/bad"
printf 'X' | dd of="$T/bad" bs=1 seek=100000 conv=notrunc 2>/dev/null
! veritysetup verify "$T/bad" "$T/bad" "$root" --hash-offset="$size" 2>/dev/null ||
	fail "veritysetup accepts a flipped data byte"
cp "$T/app" "$T/bad"
printf 'X' | dd of="$T/bad" bs=1 seek=$((size + 4096 + 40)) conv=notrunc 2>/dev/null
! veritysetup verify "$T/bad" "$T/bad" "$root" --hash-offset="$size" 2>/dev/null ||
	fail "veritysetup accepts a flipped tree byte"

# bad arguments: one line, no output, nothing written
check_err() { # check_err MESSAGE ARGS...
	local want=$1
	shift
	if "$S3ROOT" verity-format "$@" >"$T/o" 2>"$T/e"; then
		fail "verity-format $*: succeeded"
	fi
	[ ! -s "$T/o" ] && [ "$(wc -l <"$T/e")" = 1 ] &&
		[ "$(cat "$T/e")" = "s3root: $want" ] ||
		fail "verity-format $*: $(cat "$T/e")"
}
need='verity-format: IMAGE and one of --appended or --output FILE are required'
check_err "$need" "$T/img"
check_err "$need" "$T/img" --appended --output "$T/x"
check_err "$need" --appended
check_err "verity-format: --salt 'xyz' is not hex digits (an even number, at most 512)" \
	"$T/img" --output "$T/x" --salt xyz
check_err "verity-format: --salt '0' is not hex digits (an even number, at most 512)" \
	"$T/img" --output "$T/x" --salt 0
check_err "verity-format: $T/none: No such file or directory" "$T/none" --appended
check_err "verity-format: $T is not a regular file" "$T" --output "$T/x"
head -c 4096 /dev/zero >"$T/one"
check_err "verity-format: $T/one: 4096 bytes is too small for a hash tree (two blocks at least)" \
	"$T/one" --appended
[ "$(stat -c %s "$T/one")" = 4096 ] || fail "a refused image was changed"
"$S3ROOT" verity-format --help | grep -q '^usage: s3root verity-format' ||
	fail "no --help"
echo "verity-format: ok"
