"""Issue 7 item 3: DESTURI and flags validated as virsh and libvirt would, before any host is contacted.

Each refusal is a usage error (exit 2), one line, with a did-you-mean where one fits; before,
`qemu+shh://host2/system` (a typo) came out READY with SSH001 skipped.
"""

from __future__ import annotations

import pytest

from preflight.cli import build_plan
from preflight.plan_checks import PlanError
from tests.cli.test_cli import EXAMPLES, example_args, preflight

ROOT_ARGS = example_args(EXAMPLES)  # image roots: no host is contacted


def with_uri(uri: str, *extra: str) -> list[str]:
    args = list(ROOT_ARGS)
    args[args.index("qemu+ssh://host2.example.com/system")] = uri
    return [*args, *extra]


def test_typo_transport_is_exit_2_with_did_you_mean() -> None:
    out = preflight(*with_uri("qemu+shh://host2.example.com/system"))
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stdout == "" and len(out.stderr.splitlines()) == 1, out.stderr
    assert "unknown transport 'shh'" in out.stderr and "did you mean qemu+ssh://host2.example.com/system?" in out.stderr


def test_live_and_offline_together_is_exit_2() -> None:
    out = preflight(*with_uri("qemu+ssh://host2.example.com/system", "--offline"))  # example_args has --live
    assert out.returncode == 2 and "--live and --offline are mutually exclusive" in out.stderr, out.stderr
    assert len(out.stderr.splitlines()) == 1


def test_tls_flag_is_part_of_the_plan() -> None:
    out = preflight(*with_uri("qemu+tls://host2.example.com/system", "--tls"), "--format", "json")
    assert out.returncode in (0, 1), out.stderr  # judged, not a usage error
    assert build_plan(["g", "qemu+ssh://host2/system"], tls=True).tls is True
    assert build_plan(["g", "qemu+ssh://host2/system"]).tls is False


@pytest.mark.parametrize(("uri", "said"), [
    ("qemu+shh://host2/system?no_tty=1", "did you mean qemu+ssh://host2/system?no_tty=1?"),
    ("qemu+tsl://host2/system", "did you mean qemu+tls://host2/system?"),
    ("qemu+zzz://host2/system", "libvirt knows ssh, libssh2, libssh, tls, tcp, unix, ext"),
    ("qmeu+ssh://host2/system", "unknown driver 'qmeu' (did you mean qemu+ssh://host2/system?)"),
    ("foo+ssh://host2/system", "unknown driver 'foo' (e.g. qemu+ssh://host2/system)"),
    ("xen+ssh://host2/system", "driver 'xen' is not QEMU's"),
    ("lxc://host2/system", "use qemu://host2/system"),
    ("qemu+ssh://host2", "has no path"),
    ("qemu+ssh://host2/", "did you mean qemu+ssh://host2/system?"),
    ("qemu+ssh://host2/sytem", "did you mean qemu+ssh://host2/system?"),
    ("qemu+ssh://host2/system/", "refuses the path '/system/'"),
    ("qemu+ssh://host2/session", "session daemon"),
    ("qemu+unix://host2/system", "the unix transport is local only"),
])
def test_desturi_libvirt_would_refuse(uri: str, said: str) -> None:
    with pytest.raises(PlanError) as err:
        build_plan(["g", uri])
    assert said in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("uri", [
    "qemu+ssh://host2/system", "qemu+libssh2://root@host2:2222/system", "qemu+libssh://host2/system",
    "qemu+tls://host2/system", "qemu+tcp://host2/system", "qemu://host2/system", "QEMU+SSH://host2/system",
    "qemu+ext://host2/system", "qemu+ssh://host2/system?no_verify=0",
])
def test_transports_users_use_are_accepted(uri: str) -> None:
    assert build_plan(["g", uri]).dest_uri == uri


def test_uppercase_transport_is_read_as_libvirt_reads_it() -> None:
    assert build_plan(["g", "qemu+SSH://host2/system"]).uses_ssh


def test_session_to_session_is_allowed() -> None:
    plan = build_plan(["g", "qemu+ssh://host2/session"], source_libvirt="qemu:///session")
    assert plan.dest_uri.endswith("/session")
    with pytest.raises(PlanError, match="session"):
        build_plan(["g", "qemu+ssh://host2/session"], source_libvirt="qemu:///system")


@pytest.mark.parametrize(("flags", "said"), [
    ({"live": True, "offline": True}, "mutually exclusive"),
    ({"tunnelled": True}, "--tunnelled needs --p2p"),
    ({"offline": True, "p2p": True, "tunnelled": True}, "tunnelled offline migration does not make sense"),
    ({"offline": True, "copy_storage_all": True}, "offline migration cannot handle non-shared storage"),
])
def test_flags_libvirt_refuses_together(flags: dict[str, bool], said: str) -> None:
    with pytest.raises(PlanError, match=said):
        build_plan(["g", "qemu+ssh://host2/system"], **flags)


@pytest.mark.parametrize("host", ["-oProxyCommand=x", "host2:0", "host2:99999", "ho$st"])
def test_desturi_host_is_validated_whatever_dest_is(host: str) -> None:
    # --dest is an image root here: the host virsh will reach is still checked
    out = preflight(*with_uri(f"qemu+ssh://{host}/system"))
    assert out.returncode == 2 and "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
