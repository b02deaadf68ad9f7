#!/bin/sh
# Integration: the example session of docs/veil-mls.md with three members (alice, bob,
# carol), through the veil-mls binary and files only. Fails on the first wrong outcome.
# Usage: test_veil_mls.sh <path to veil-mls>
set -eu
MLS="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
cd "$D"

fail() { echo "not ok - $*"; exit 1; }
ea() { "$MLS" show --state "$1" | sed -n 's/^epoch_authenticator: //p'; }
epoch() { "$MLS" show --state "$1" | sed -n 's/^epoch: //p'; }

echo "1..3"
# KeyPackages of bob and carol; alice creates the group and adds both in one Commit.
"$MLS" keypackage --suite 1 --identity bob --out bob.kp --kp-state bob.kpstate
"$MLS" keypackage --suite 1 --identity carol --out carol.kp --kp-state carol.kpstate
"$MLS" create --suite 1 --identity alice --group-id meeting-42 --state alice.state
"$MLS" add --state alice.state --kp bob.kp --kp carol.kp --commit c1.msg --welcome w1.msg
"$MLS" join --kp-state bob.kpstate --welcome w1.msg --state bob.state
"$MLS" join --kp-state carol.kpstate --welcome w1.msg --state carol.state
[ "$(epoch alice.state)" = 1 ] || fail "alice at epoch 1"
[ "$(ea alice.state)" = "$(ea bob.state)" ] || fail "bob agrees"
[ "$(ea alice.state)" = "$(ea carol.state)" ] || fail "carol agrees"
"$MLS" show --state carol.state | grep -q 'leaf 0: basic "alice"' || fail "roster lists alice"

# Application data alice -> bob, carol.
printf 'hello from alice' > hello.txt
"$MLS" protect --state alice.state --in hello.txt --out m1.msg
"$MLS" unprotect --state bob.state --in m1.msg --out bob.txt
"$MLS" unprotect --state carol.state --in m1.msg --out carol.txt
cmp -s hello.txt bob.txt || fail "bob reads alice"
cmp -s hello.txt carol.txt || fail "carol reads alice"
# The same message twice: its key was used (RFC 9420 §9.2).
if "$MLS" unprotect --state bob.state --in m1.msg --out again.txt 2>/dev/null; then
  fail "replayed application message accepted"
fi

# carol updates her keys; alice and bob follow.
"$MLS" update --state carol.state --commit c2.msg
"$MLS" process --state alice.state --in c2.msg
"$MLS" process --state bob.state --in c2.msg
[ "$(epoch bob.state)" = 2 ] || fail "epoch 2 after update"
[ "$(ea alice.state)" = "$(ea carol.state)" ] || fail "agree after update"
# Replaying the Commit is refused.
if "$MLS" process --state bob.state --in c2.msg 2>/dev/null; then fail "replayed commit"; fi

# Exporter: same secret everywhere.
X1=$("$MLS" export --state alice.state --label sframe --length 16)
X2=$("$MLS" export --state bob.state --label sframe --length 16)
[ "$X1" = "$X2" ] || fail "exporter agrees"

# bob removes carol; carol learns it, and cannot read what follows.
"$MLS" remove --state bob.state --leaf 2 --commit c3.msg
"$MLS" process --state alice.state --in c3.msg
"$MLS" process --state carol.state --in c3.msg | grep -q "removed" || fail "carol told of removal"
[ "$(ea alice.state)" = "$(ea bob.state)" ] || fail "agree after remove"
printf 'carol is gone' > secret.txt
"$MLS" protect --state alice.state --in secret.txt --out m2.msg
"$MLS" unprotect --state bob.state --in m2.msg --out bob2.txt
cmp -s secret.txt bob2.txt || fail "bob reads after remove"
if "$MLS" unprotect --state carol.state --in m2.msg --out c2.txt 2>/dev/null; then
  fail "removed member decrypted"
fi
"$MLS" show --state alice.state | grep -q '^members: 2' || fail "two members left"

# A new member with the tree outside the Welcome.
"$MLS" keypackage --suite 1 --identity dave --out dave.kp --kp-state dave.kpstate
"$MLS" add --state alice.state --kp dave.kp --commit c4.msg --welcome w4.msg --no-inline-tree --tree-out t4.bin
"$MLS" process --state bob.state --in c4.msg
"$MLS" join --kp-state dave.kpstate --welcome w4.msg --tree t4.bin --state dave.state
[ "$(ea dave.state)" = "$(ea bob.state)" ] || fail "dave agrees"
# dave cannot read what was sent before he joined.
if "$MLS" unprotect --state dave.state --in m2.msg 2>/dev/null >/dev/null; then
  fail "joiner read an earlier epoch"
fi
echo "ok 1 - veil-mls example session with alice, bob, carol (and dave)"

# Help is asked for, not a mistake: usage on stdout, nothing on stderr, exit 0. An unknown
# command still exits 2 with usage on stderr.
for h in --help -h help; do
  "$MLS" "$h" >help.out 2>help.err || fail "$h exits $?"
  grep -q '^usage: veil-mls <command>' help.out || fail "$h prints usage on stdout"
  [ ! -s help.err ] || fail "$h writes to stderr"
done
rc=0; "$MLS" frobnicate >help.out 2>help.err || rc=$?
[ "$rc" = 2 ] && [ ! -s help.out ] && grep -q '^usage:' help.err || fail "unknown command: exit $rc"
echo "ok 2 - veil-mls --help, -h, help: usage on stdout, exit 0; unknown command exit 2"

# --sig-key is the suite's signature private key in hex (32 bytes: 64 digits for suites
# 1-3). A wrong length or a non-hex digit is refused with exit 2 and nothing written; a
# good key is used: two groups created with it show the same leaf signature key.
K=$(printf '%064d' 0 | tr 0 7)
for bad in "$(printf '%062d' 0 | tr 0 7)" "${K}77" "${K}7" "" "$(printf '%064d' 0 | tr 0 g)"; do
  for suite in 1 2 3; do
    rc=0
    "$MLS" create --suite $suite --identity eve --group-id g --state eve.state \
      --sig-key "$bad" 2>sig.err || rc=$?
    [ "$rc" = 2 ] || fail "suite $suite --sig-key '$bad': exit $rc, not 2"
    grep -q -- '--sig-key' sig.err || fail "suite $suite --sig-key '$bad': no message"
    [ ! -e eve.state ] || fail "suite $suite --sig-key '$bad': state written"
    rc=0
    "$MLS" keypackage --suite $suite --identity eve --out eve.kp --kp-state eve.kpstate \
      --sig-key "$bad" 2>/dev/null || rc=$?
    [ "$rc" = 2 ] && [ ! -e eve.kp ] && [ ! -e eve.kpstate ] ||
      fail "keypackage suite $suite --sig-key '$bad': exit $rc"
  done
done
sigkey() { "$MLS" show --state "$1" | sed -n 's/^ *leaf 0: .* sig_key //p'; }
for suite in 1 2 3; do
  "$MLS" create --suite $suite --identity eve --group-id g1 --state e1.state --sig-key "$K"
  "$MLS" create --suite $suite --identity eve --group-id g2 --state e2.state --sig-key "$K"
  "$MLS" create --suite $suite --identity eve --group-id g3 --state e3.state
  [ -n "$(sigkey e1.state)" ] || fail "suite $suite: show lists no signature key"
  [ "$(sigkey e1.state)" = "$(sigkey e2.state)" ] || fail "suite $suite: --sig-key not used"
  [ "$(sigkey e1.state)" != "$(sigkey e3.state)" ] || fail "suite $suite: generated key equals --sig-key"
  "$MLS" keypackage --suite $suite --identity eve --out e.kp --kp-state e.kpstate --sig-key "$K" ||
    fail "keypackage suite $suite with a good --sig-key"
  rm -f e1.state e2.state e3.state e.kp e.kpstate
done
echo "ok 3 - veil-mls --sig-key: wrong length or non-hex refused (exit 2, nothing written); a good key is used"
