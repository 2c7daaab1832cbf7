"""Agreement scenarios for the destination's emulator and KVM (issue 8 items 2 and 3: GST006, GST007).

Faults live only in host2's own mount namespace (the lab's hosts have private mount propagation) and
are undone after each scenario: reset() restores files and daemons, not mounts.

- The emulator that does not run: a script bind-mounted over /usr/bin/qemu-system-x86_64 that fails as a
  binary with a missing shared library does (exit 127). No libvirtd restart is needed, and none is done:
  libvirt checks the cached capabilities against the binary's ctime/mtime on every lookup, so the
  migration failed at once with `Failed to start QEMU binary ... for probing` (measured), while the
  read-only `virsh capabilities` still listed every machine type of the old binary (measured: why GST005
  and GST006 ask the binary itself). Its twin binds a copy of the real binary over it (a package
  reinstall: new inode and ctime): libvirt re-probes, and it migrates. (A shell wrapper exec'ing the
  binary from another path is no twin: `-version` and `-machine help` run, but QEMU looks for its
  accelerator modules next to its own path and libvirt's probe failed with `could not load module for
  type 'tcg-accel-ops'`, measured.)
- KVM: g1 is redefined as `<domain type='kvm'>` (this machine has /dev/kvm; QEMU runs as root in the
  lab, so its mode does not matter). host2 loses /dev/kvm the way a host without the kvm module has
  none: a /dev of its own (tmpfs) holding bind mounts of every entry of the real /dev but kvm. The real
  migration failed with `Domain requires KVM, but it is not available` both with libvirt's capabilities
  from before (libvirtd left running) and with libvirt probing QEMU afresh without /dev/kvm (cache
  emptied, libvirtd restarted: a host installed or upgraded without KVM; there `virsh domcapabilities
  --virttype kvm` says `the accel 'kvm' is not supported`, and defining the same guest says `Emulator
  '/usr/bin/qemu-system-x86_64' does not support virt type 'kvm'`, all measured). A /dev/kvm that is a
  character device of the wrong kind (e.g. /dev/null bound over it) is not judged here: the gather
  records only the type, not major:minor.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from .agreement import ROWS
from .files import SHARED_DIR, guest_xml
from .lab import Lab
from .test_agreement import Scenario, run_scenario

pytestmark = pytest.mark.lab

QEMU = "/usr/bin/qemu-system-x86_64"
BROKEN = (  # what a binary with a missing library prints (ld.so), and its exit code
    "#!/bin/sh\n"
    'echo "qemu-system-x86_64: error while loading shared libraries: libslirp.so.0: cannot open shared '
    'object file: No such file or directory" >&2\n'
    "exit 127\n"
)
COPY = "/var/lib/libvirt/images/local/qemu-reinstalled"  # per host, emptied by reset()
CACHE = "/var/cache/libvirt/qemu/capabilities"  # libvirt's QEMU capabilities cache (per lab host, kept by reset)
# host2's own /dev without kvm: every entry of the real /dev bound into a tmpfs, kvm left out
NO_DEV_KVM = """set -e
mkdir -p /run/lab/realdev
mount --rbind /dev /run/lab/realdev
mount --make-rprivate /run/lab/realdev
mount -t tmpfs -o mode=755,size=1m labdev /dev
for e in /run/lab/realdev/* /run/lab/realdev/.[!.]*; do
  [ -e "$e" ] || [ -L "$e" ] || continue
  n=${e##*/}
  [ "$n" = kvm ] && continue
  if [ -L "$e" ]; then cp -P "$e" "/dev/$n"
  elif [ -d "$e" ]; then mkdir "/dev/$n" && mount --rbind "$e" "/dev/$n"
  else touch "/dev/$n" && mount --bind "$e" "/dev/$n"; fi
done
test ! -e /dev/kvm && test -c /dev/null"""
# Undo whatever of the faults is in place (each step only when mounted), then prove the baseline is back.
UNDO = f"""m() {{ awk -v p="$1" '$5 == p {{ f = 1 }} END {{ exit !f }}' /proc/self/mountinfo; }}
while m {QEMU}; do umount {QEMU} || exit 1; done
if m /run/lab/realdev; then  # lazily: libvirtd holds /dev/null open; the cache probed without KVM goes too
  umount -R -l /dev && umount -R -l /run/lab/realdev && rm -f {CACHE}/*.xml || exit 1
fi
test -c /dev/kvm && {QEMU} -version >/dev/null"""


def emulator_broken(lab: Lab) -> None:
    lab.write_file("host2", "/run/lab/broken-qemu", BROKEN, mode=0o755)
    lab.exec("host2", f"mount --bind /run/lab/broken-qemu {QEMU}", check=True)
    assert lab.exec("host2", [QEMU, "-version"]).returncode == 127


def emulator_reinstalled(lab: Lab) -> None:
    """The same binary as a new file (a package reinstall: new inode and ctime): libvirt's cache is stale."""
    lab.exec("host2", f"cp {QEMU} {COPY} && mount --bind {COPY} {QEMU}", check=True)
    assert "QEMU emulator version" in lab.exec("host2", [QEMU, "-version"], check=True).stdout


def kvm_guest(lab: Lab) -> None:
    """g1 (defined and started by the scenario as a TCG guest) redefined as type='kvm' and started on host1."""
    xml = guest_xml("g1", f"{SHARED_DIR}/g1.qcow2")
    assert "<domain type='qemu'>" in xml
    lab.exec("host1", "virsh -q destroy g1; virsh -q undefine g1", timeout=30)
    lab.write_file("host1", "/run/lab/g1-kvm.xml", xml.replace("<domain type='qemu'>", "<domain type='kvm'>"))
    lab.exec("host1", "virsh -q define /run/lab/g1-kvm.xml && virsh -q start g1", check=True, timeout=60)
    live = lab.virsh("host1", "dumpxml", "g1").stdout
    assert "<domain type='kvm'" in live, live[:200]


def no_dev_kvm(fresh_libvirt: bool) -> Callable[[Lab], None]:
    def fault(lab: Lab) -> None:
        kvm_guest(lab)
        lab.exec("host2", NO_DEV_KVM, check=True)
        if fresh_libvirt:  # a host installed (or upgraded) without KVM: libvirt probes QEMU with no /dev/kvm
            lab.exec("host2", f"rm -f {CACHE}/*.xml", check=True)
            lab.restart_daemon("host2", "libvirtd")
    return fault


NO_KVM = "Domain requires KVM, but it is not available"
# each scenario with the libvirt error its real migration must fail with ("" : it must succeed)
SCENARIOS = [
    (Scenario("dest emulator does not run (missing library)", emulator_broken, expect=("GST006",)),
     f"Failed to start QEMU binary {QEMU} for probing"),
    (Scenario("dest emulator reinstalled (new ctime), runs", emulator_reinstalled), ""),
    (Scenario("kvm guest, /dev/kvm on both", kvm_guest), ""),
    (Scenario("kvm guest, dest without /dev/kvm (libvirt probed QEMU without it)", no_dev_kvm(fresh_libvirt=True),
              expect=("GST007",)), NO_KVM),
    (Scenario("kvm guest, dest /dev/kvm gone under a running libvirtd", no_dev_kvm(fresh_libvirt=False),
              expect=("GST007",)), NO_KVM),
]


@pytest.mark.parametrize(("sc", "error"), SCENARIOS, ids=[s.name for s, _ in SCENARIOS])
def test_emulator_prediction_agrees_with_real_migration(lab: Lab, sc: Scenario, error: str) -> None:
    try:
        run_scenario(lab, sc)
    finally:
        lab.exec("host2", UNDO, check=True)
    outcome = ROWS[-1].outcome
    assert (error in outcome) if error else outcome == "all migrations succeeded", outcome


def test_healthy_kvm_guest_is_judged_by_the_destination_binary_itself(lab: Lab) -> None:
    """The READY above rests on the binary's own answers over real ssh: -machine help judged GST005
    (the guest runs as pc-i440fx-*, an alias target), -accel help listed kvm for GST007."""
    lab.define_guest("host1", "g1", disk=("shared", "g1.qcow2"))
    kvm_guest(lab)
    out = lab.exec("host1", "preflight check --live g1 qemu+ssh://host2/system --format json "
                            "--select GST005,GST006,GST007", timeout=120)
    report = json.loads(out.stdout)
    found = {f["rule"]: f for f in report["findings"]}
    assert report["verdict"] == "ready", report["findings"]
    assert "EMULATOR -machine help" in found["GST005"]["evidence"]["judged_by"]
    assert "kvm" in found["GST007"]["evidence"]["accelerators"] and "-accel help" in found["GST007"]["message"]
    assert found["GST006"]["status"] == "pass"
