#!/bin/sh
# Checks that a BoringSSL-backed runner loads no OpenSSL libcrypto/libssl at all (ldd), and
# that at run time every symbol veil's code takes from a crypto library binds into
# BoringSSL's libcrypto (LD_DEBUG=bindings). DESIGN.md, "Why two crypto libraries": the two
# libraries share symbol names, so a stray OpenSSL in the process would silently take over
# some calls. Usage: check_bssl_binding.sh <runner> <boringssl libdir>. TAP output.
set -u
bin=$1
bssl_dir=$2
echo "1..3"
deps=$(ldd "$bin" 2>&1)
if echo "$deps" | grep -Eq 'libcrypto\.so\.3|libssl\.so\.3'; then
  echo "not ok 1 - ldd: OpenSSL 3 is loaded into $bin"
  echo "$deps" | sed 's/^/# /'
  fail=1
else
  echo "ok 1 - ldd: no OpenSSL 3 libcrypto/libssl in $bin"
fi
# Bindings from the runner's own file (veil's code is linked statically into it).
binds=$(LD_DEBUG=bindings "$bin" 2>&1 >/dev/null | grep "binding file $bin " ) || true
n_bssl=$(echo "$binds" | grep -c "to $bssl_dir/libcrypto") || true
other=$(echo "$binds" | grep -E 'to [^ ]*lib(crypto|ssl)' | grep -v "to $bssl_dir/") || true
if [ "$n_bssl" -gt 0 ]; then
  echo "ok 2 - $n_bssl symbol references from the runner bind to $bssl_dir/libcrypto"
else
  echo "not ok 2 - no symbol reference from the runner binds to BoringSSL"
  fail=1
fi
if [ -z "$other" ]; then
  echo "ok 3 - no reference binds to any other crypto library"
else
  echo "not ok 3 - references bound outside BoringSSL:"
  echo "$other" | sed 's/^/# /'
  fail=1
fi
exit ${fail:-0}
