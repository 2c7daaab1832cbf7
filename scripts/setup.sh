#!/bin/sh
# Set up migration-preflight on a fresh Debian/Ubuntu or RHEL-family machine:
# system packages (compiler and headers for libvirt-python / python-augeas,
# Augeas lenses, OpenSSH, the libvirt daemon and QEMU for the tests and the
# lab), then a virtualenv in .venv with the project installed editable (versions from constraints.txt).
# Idempotent; run as root (or with sudo available).
set -eu
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends \
        python3 python3-venv python3-dev gcc pkg-config \
        libvirt-dev libaugeas-dev augeas-lenses augeas-tools \
        libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils \
        openssh-server openssh-client iproute2 iptables bindfs fuse3 procps util-linux patch openssl >/dev/null
elif command -v dnf >/dev/null 2>&1 || command -v yum >/dev/null 2>&1; then
    PM=$(command -v dnf || command -v yum)
    $SUDO "$PM" install -y -q python3 python3-devel gcc pkgconf-pkg-config \
        libvirt-devel augeas-devel augeas augeas-libs \
        libvirt-daemon libvirt-daemon-driver-qemu libvirt-client qemu-kvm qemu-img \
        openssh-server openssh-clients iproute iptables fuse3 procps-ng util-linux patch openssl
    # bindfs (lab shared storage) is in EPEL on RHEL; the lab skips without it outside CI.
    $SUDO "$PM" install -y -q bindfs 2>/dev/null || echo "setup: bindfs not available (EPEL); lab tests will skip"
else
    echo "setup: neither apt-get nor dnf/yum found; install the packages listed in README.md by hand" >&2
    exit 2
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
# Versions pinned by constraints.txt (reproducible CI). setuptools comes from there too and
# builds without isolation: nothing is fetched to build, and `pip wheel` in .ci/run uses it.
.venv/bin/python -m pip install -q -c constraints.txt pip setuptools
.venv/bin/python -m pip install -q -c constraints.txt --no-build-isolation -e '.[test]'
echo "setup: done (.venv/bin/preflight)"
