#!/bin/bash
# Turns the Debian rootfs into the RHCOS stand-in (RUN by the stand-in's
# Containerfile; see e2e/buildenv/base.go and docs/e2e.md).
set -euo pipefail
: "${KVER:?}" "${RHEL:?}" "${OCP:?}"
cd /

# rpm keeps its database in /usr/share/rpm on RHCOS (rpm-ostree), with
# /var/lib/rpm a link made by tmpfiles.d (coreos/rpm-ostree
# src/app/rpm-ostree-0-integration.conf).
mkdir -p /etc/rpm /usr/share/rpm
echo '%_dbpath /usr/share/rpm' > /etc/rpm/macros.dbpath
rpm --initdb
rpm -i /tmp/mosc-build/stock/*.rpm
[ "$(rpm -qa | wc -l)" -gt 5 ]

# Debian's rpm warns on every install/erase ("use Alien instead"); RHCOS's
# does not, and mosc shows rpm's output in its errors. --force-debian is the
# Debian switch that silences it (/usr/share/doc/rpm/README.Debian).
mkdir -p /usr/libexec/mosc
mv /usr/bin/rpm /usr/libexec/mosc/rpm
printf '#!/bin/sh\nexec /usr/libexec/mosc/rpm --force-debian "$@"\n' > /usr/bin/rpm
chmod 0755 /usr/bin/rpm

# Debian's /var holds only machine state we do not need; RHCOS ships /var
# (nearly) empty, with tmpfiles.d recreating its directories at boot.
ldconfig
find /var -xdev -mindepth 1 \( -type f -o -type p -o -type s \) -delete
rm -rf /var/opt /var/lib/dpkg /var/lib/apt /var/lib/rpm /var/cache/* /var/log/*
ln -s ../../usr/share/rpm /var/lib/rpm

# /opt -> var/opt, /usr/local -> ../var/usrlocal style links as on RHCOS;
# /var/opt itself is made at boot by tmpfiles.d, so it is absent in the image.
rm -rf /opt && ln -s var/opt /opt
mkdir -p /usr/lib/tmpfiles.d
cat > /usr/lib/tmpfiles.d/rpm-ostree-0-integration-opt-usrlocal.conf <<'EOT'
# From coreos/rpm-ostree src/app/rpm-ostree-0-integration-opt-usrlocal.conf
d /var/opt 0755 root root -
d /var/usrlocal 0755 root root -
EOT
cat > /usr/lib/tmpfiles.d/rpm-ostree-0-integration.conf <<'EOT'
# From coreos/rpm-ostree src/app/rpm-ostree-0-integration.conf (subset)
d /var/home 0755 root root -
d /var/srv 0755 root root -
d /var/roothome 0700 root root -
d /var/mnt 0755 root root -
L /var/lib/rpm - - - - ../../usr/share/rpm
EOT
# Every directory and link left in /var gets its entry, so the stock image
# lints clean (as RHCOS does) and only what a layer adds is reported.
find /var -xdev -mindepth 1 \( -type d -printf 'd /%P 0%m %u %g -\n' \) -o \( -type l -printf 'L /%P - - - - %l\n' \) \
  | sed 's#^\([dL]\) /#\1 /var/#' | grep -v ' /var/lib/rpm ' > /usr/lib/tmpfiles.d/mosc-standin-var.conf

# ostree container layout checked by bootc's baseimage-root and composefs lints.
mkdir -p /sysroot/ostree/repo /usr/lib/ostree /boot
ln -sfn sysroot/ostree /ostree
printf '[composefs]\nenabled = true\n[sysroot]\nreadonly = true\n' > /usr/lib/ostree/prepare-root.conf

# dnf as configured on RHCOS/RHEL 9 (/etc/dnf/dnf.conf), repos from /etc/yum.repos.d.
mkdir -p /etc/dnf /etc/yum.repos.d /etc/pki/rpm-gpg
cat > /etc/dnf/dnf.conf <<'EOT'
[main]
gpgcheck=1
installonly_limit=3
clean_requirements_on_remove=True
best=True
skip_if_unavailable=False
reposdir=/etc/yum.repos.d
EOT
rm -f /etc/yum.repos.d/* 

# os-release as RHCOS has it (ID rhcos, RHEL_VERSION, OPENSHIFT_VERSION).
rm -f /etc/os-release
cat > /usr/lib/os-release <<EOT
NAME="Red Hat Enterprise Linux CoreOS"
ID="rhcos"
ID_LIKE="rhel fedora"
VERSION="${OCP} (mosc e2e stand-in)"
VERSION_ID="${OCP}"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux CoreOS ${OCP} (mosc e2e stand-in on Debian)"
RHEL_VERSION="${RHEL}"
OPENSHIFT_VERSION="${OCP}"
OSTREE_VERSION="${OCP/./}.${RHEL/./}.202611290000-0"
EOT
ln -s ../usr/lib/os-release /etc/os-release

# /usr/share/openshift/base/meta.json: the build metadata RHCOS ships, with the
# rpmdb package list as [name, epoch, version, release, arch] (the shape
# openshift-eng/art-tools reads: meta["rpmdb.pkglist"], kernel-core).
mkdir -p /usr/share/openshift/base
{
  printf '{\n  "buildid": "%s",\n  "ostree.linux": "%s",\n  "rpmdb.pkglist": [\n' "${OCP/./}.${RHEL/./}.202611290000-0" "$KVER"
  rpm -qa --qf '    \["%{NAME}", "%{EPOCHNUM}", "%{VERSION}", "%{RELEASE}", "%{ARCH}"\]\n' | sort | sed '$!s/$/,/'
  printf '  ]\n}\n'
} > /usr/share/openshift/base/meta.json
python3 -c 'import json; json.load(open("/usr/share/openshift/base/meta.json"))'

install -m 0755 /tmp/mosc-build/tools/rpm-ostree /tmp/mosc-build/tools/ostree /tmp/mosc-build/tools/bootc /usr/bin/
rm -rf /var/tmp/* /var/cache/*
