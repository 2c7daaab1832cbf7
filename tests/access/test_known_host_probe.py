"""The source's known-host probe (issue 7 item 1): gather.sh asks ssh-keygen -F over root's and the
global known_hosts, for real, and the view reads its answer."""

from __future__ import annotations

import os

from preflight.access import LocalAccess
from preflight.gather.script import run_gather
from preflight.model import probes as P
from preflight.model.facts import HostMode, HostSnapshot
from preflight.view import HostView
from preflight.view.sshconn import root_trust

NAME = "preflight-no-such-host.invalid"
FILES = ("/root/.ssh/known_hosts", "/root/.ssh/known_hosts2", "/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")


def test_known_host_probe_from_the_real_script() -> None:
    with LocalAccess() as acc:
        found = run_gather(acc, [NAME], [], names_only=True)
    probe = found[P.known_host_key(NAME)]
    assert probe.ok, probe.error
    snap = HostSnapshot(role="source", spec="local", mode=HostMode.LOCAL)
    snap.add(probe)
    trust = root_trust(HostView(snap), NAME).get()
    states = dict(trust.known_hosts)
    assert tuple(states) == FILES
    for f in FILES:  # a name nobody has: never "found"; "missing" exactly where the file is absent
        if os.access(os.path.dirname(f), os.X_OK):
            assert states[f] == ("missing" if not os.path.exists(f) else "absent"), (f, states[f])
        else:
            assert states[f] in ("unreadable", "missing")
    assert trust.found_in == []
    ids = dict(trust.identities)
    for f, st in ids.items():
        if os.access(os.path.dirname(f), os.X_OK):
            assert st == ("present" if os.path.exists(f) else "missing")


def test_option_like_name_is_refused() -> None:
    with LocalAccess() as acc:
        found = run_gather(acc, ["-oProxyCommand=x"], [], names_only=True)
    assert not found[P.known_host_key("-oProxyCommand=x")].ok
