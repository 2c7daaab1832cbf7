"""Agreement scenarios for the destination's emulator and KVM (issue 8 items 2 and 3: GST006, GST007).

Faults live only in a lab host's own mount namespace (the hosts have private mount propagation) and are
undone after each scenario (UNDO, on both hosts): reset() restores files and daemons, not mounts.

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
- The emulator path missing: g1 names RHEL's /usr/libexec/qemu-kvm (the real QEMU bound there in host1,
  inside a /usr/libexec of its own); a Debian destination has no such path: `Cannot check QEMU binary
  /usr/libexec/qemu-kvm: No such file or directory` (measured). Twin: host2 has it too.
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
LIBEXEC_QEMU = "/usr/libexec/qemu-kvm"  # RHEL's emulator path; Debian has none
# SHADOW DIR SKIP: DIR becomes a tmpfs of this host's own holding bind mounts of every entry of the real
# DIR but SKIP (its mount namespace only): a /dev without kvm, a /usr/libexec that can gain a qemu-kvm.
SHADOW = """set -e
d=$1; skip=$2; real=/run/lab/real${d##*/}
mkdir -p "$real"
mount --rbind "$d" "$real"
mount --make-rprivate "$real"
mount -t tmpfs -o mode=755,size=1m labshadow "$d"
for e in "$real"/* "$real"/.[!.]*; do
  [ -e "$e" ] || [ -L "$e" ] || continue
  n=${e##*/}
  [ "$n" = "$skip" ] && continue
  if [ -L "$e" ]; then cp -P "$e" "$d/$n"
  elif [ -d "$e" ]; then mkdir "$d/$n" && mount --rbind "$e" "$d/$n"
  else touch "$d/$n" && mount --bind "$e" "$d/$n"; fi
done"""
# Undo whatever of the faults is in place (each step only when mounted), then prove the baseline is back.
UNDO = f"""m() {{ awk -v p="$1" '$5 == p {{ f = 1 }} END {{ exit !f }}' /proc/self/mountinfo; }}
while m {QEMU}; do umount {QEMU} || exit 1; done
while m /dev/kvm; do umount /dev/kvm || exit 1; done
if m /run/lab/realdev; then  # lazily: libvirtd holds /dev/null open; the cache probed without KVM goes too
  umount -R -l /dev && umount -R -l /run/lab/realdev && rm -f {CACHE}/*.xml || exit 1
fi
if m /run/lab/reallibexec; then umount -R -l /usr/libexec && umount -R -l /run/lab/reallibexec || exit 1; fi
test -c /dev/kvm && {QEMU} -version >/dev/null && test ! -e {LIBEXEC_QEMU}"""


def shadow(lab: Lab, host: str, directory: str, skip: str = "") -> None:
    lab.exec(host, ["/bin/sh", "-c", SHADOW, "shadow", directory, skip], check=True)


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
        shadow(lab, "host2", "/dev", skip="kvm")
        lab.exec("host2", "test ! -e /dev/kvm && test -c /dev/null", check=True)
        if fresh_libvirt:  # a host installed (or upgraded) without KVM: libvirt probes QEMU with no /dev/kvm
            lab.exec("host2", f"rm -f {CACHE}/*.xml", check=True)
            lab.restart_daemon("host2", "libvirtd")
    return fault


def dev_null_over_dev_kvm(lab: Lab) -> None:
    """host2's /dev/kvm is /dev/null bind-mounted over it (a character device, but not KVM's 10:232)."""
    kvm_guest(lab)
    lab.exec("host2", "mount --bind /dev/null /dev/kvm && test -c /dev/kvm", check=True)


def rhel_emulator_path(on_dest: bool) -> Callable[[Lab], None]:
    """g1 redefined with RHEL's <emulator>/usr/libexec/qemu-kvm</emulator>: host1 has it (the real QEMU
    bound there; QEMU finds its modules relative to its own directory, which works from /usr/libexec),
    host2 only when on_dest (a Debian destination has no such path)."""
    def fault(lab: Lab) -> None:
        for host in ("host1", "host2") if on_dest else ("host1",):
            shadow(lab, host, "/usr/libexec")
            lab.exec(host, f"touch {LIBEXEC_QEMU} && mount --bind {QEMU} {LIBEXEC_QEMU}", check=True)
        xml = guest_xml("g1", f"{SHARED_DIR}/g1.qcow2")
        assert f"<emulator>{QEMU}</emulator>" in xml
        lab.exec("host1", "virsh -q destroy g1; virsh -q undefine g1", timeout=30)
        lab.write_file("host1", "/run/lab/g1-libexec.xml", xml.replace(QEMU, LIBEXEC_QEMU))
        lab.exec("host1", "virsh -q define /run/lab/g1-libexec.xml && virsh -q start g1", check=True, timeout=60)
        assert f"<emulator>{LIBEXEC_QEMU}</emulator>" in lab.virsh("host1", "dumpxml", "g1").stdout
    return fault


NO_KVM = "Domain requires KVM, but it is not available"
# each scenario with the libvirt error its real migration must fail with ("" : it must succeed)
SCENARIOS = [
    (Scenario("dest emulator does not run (missing library)", emulator_broken, expect=("GST006",)),
     f"Failed to start QEMU binary {QEMU} for probing"),
    (Scenario("dest emulator reinstalled (new ctime), runs", emulator_reinstalled), ""),
    (Scenario("guest's emulator /usr/libexec/qemu-kvm missing on dest", rhel_emulator_path(on_dest=False),
              expect=("GST006",)), f"Cannot check QEMU binary {LIBEXEC_QEMU}: No such file or directory"),
    (Scenario("guest's emulator /usr/libexec/qemu-kvm on both", rhel_emulator_path(on_dest=True)), ""),
    (Scenario("kvm guest, /dev/kvm on both", kvm_guest), ""),
    (Scenario("kvm guest, dest without /dev/kvm (libvirt probed QEMU without it)", no_dev_kvm(fresh_libvirt=True),
              expect=("GST007",)), NO_KVM),
    (Scenario("kvm guest, dest /dev/kvm gone under a running libvirtd", no_dev_kvm(fresh_libvirt=False),
              expect=("GST007",)), NO_KVM),
    (Scenario("kvm guest, dest /dev/kvm is /dev/null (a char device, not KVM's)", dev_null_over_dev_kvm,
              expect=("GST007",)), "kvm version too old"),
]


@pytest.mark.parametrize(("sc", "error"), SCENARIOS, ids=[s.name for s, _ in SCENARIOS])
def test_emulator_prediction_agrees_with_real_migration(lab: Lab, sc: Scenario, error: str) -> None:
    try:
        run_scenario(lab, sc)
    finally:
        for host in lab.hosts:
            lab.exec(host, UNDO, check=True)
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
