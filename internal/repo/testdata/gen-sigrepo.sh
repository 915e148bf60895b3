#!/usr/bin/env bash
# Regenerates testdata/sigrepo: a tiny createrepo_c repository for the
# header-signature tests (TestSignatures). Packages:
#   app        requires libapp and /bin/sh (external) -> signed with key A
#   libapp     requires libdep-cap (provided by libdep) -> signed with key A
#   libdep     provides libdep-cap                     -> signed with key A
#   extra      unsigned                                -> required by app
#   rogue      signed with key B (not the repo's key)  -> required by libapp
#   unused     signed with key A, required by nothing (outside the closure)
# key-a.asc / key-b.asc are the public keys. Needs rpmbuild, rpmsign, gpg,
# createrepo_c. Run from internal/repo: bash testdata/gen-sigrepo.sh
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)/sigrepo
rm -rf "$out" && mkdir -p "$out/Packages"
work=$(mktemp -d) && trap 'gpgconf --homedir "$work/gA" --kill all; gpgconf --homedir "$work/gB" --kill all; rm -rf "$work"' EXIT
for k in A B; do
  mkdir -m 700 "$work/g$k"
  gpg --batch --homedir "$work/g$k" --pinentry-mode loopback --passphrase '' \
    --quick-generate-key "mosc test key $k <$k@mosc.invalid>" rsa2048 sign never 2>/dev/null
  gpg --batch --homedir "$work/g$k" --armor --export > "$out/key-$(echo $k | tr AB ab).asc"
done
spec() { # name requires provides
  cat > "$work/$1.spec" <<SPEC
Name: $1
Version: 1.0
Release: 1.el9
Summary: mosc signature test package $1
License: Apache-2.0
BuildArch: x86_64
$( [ -n "$2" ] && echo "Requires: $2" )
$( [ -n "$3" ] && echo "Provides: $3" )
%description
test
%install
mkdir -p %{buildroot}/usr/share/mosc-test
echo $1 > %{buildroot}/usr/share/mosc-test/$1
%files
/usr/share/mosc-test/$1
SPEC
  rpmbuild -bb --quiet --define "_topdir $work/top" --define "_build_id_links none" "$work/$1.spec"
}
spec app "libapp, extra, /bin/sh" ""
spec libapp "libdep-cap, rogue" ""
spec libdep "" "libdep-cap"
spec extra "" ""
spec rogue "" ""
spec unused "" ""
cp "$work"/top/RPMS/x86_64/*.rpm "$out/Packages/"
sign() { # key files...
  k=$1; shift
  rpmsign --addsign --define "__gpg $(command -v gpg)" --define "_gpg_name mosc test key $k" --define "_gpg_path $work/g$k" \
    --define "_gpg_sign_cmd_extra_args --batch --pinentry-mode loopback --passphrase ''" "$@" >/dev/null
}
sign A "$out"/Packages/{app,libapp,libdep,unused}-1.0-1.el9.x86_64.rpm
sign B "$out"/Packages/rogue-1.0-1.el9.x86_64.rpm
createrepo_c --quiet --no-database --simple-md-filenames "$out"
