"""SSH003 migration-ssh-connection — the migration's own ssh connection to the destination works.

What it checks
    When preflight runs on the source (``--source local``), its ssh connection to DESTURI's
    host is the one ``virsh migrate`` opens over qemu+ssh: the invoking user's ssh client,
    or with ``--p2p`` the source's libvirtd, i.e. root's. If that connection failed
    (refused, timed out, host key unknown or changed, key not accepted, dropped by
    MaxStartups), the migration fails the same way. When preflight's identity differs
    (another user, ``--p2p`` while not root, ``--sudo``, ``--ssh-config``, another target,
    a machine that is not the source) it says which identity was proven and which was not.

Why it breaks a migration
    ``virsh migrate`` first opens the control connection to the destination's libvirt over
    ssh, in batch mode with strict host key checking: any of these failures ends the
    migration before it starts ("Cannot recv data: ssh: connect to host host2 port 22:
    Connection refused", "Host key verification failed.", "Permission denied (publickey)").

How to fix it
    Depends on the cause: start sshd (``systemctl start sshd``); add the host key after
    verifying its fingerprint out of band (``ssh-keyscan -t ed25519 HOST >>
    ~/.ssh/known_hosts``); remove a changed key after verifying the new one (``ssh-keygen -R
    HOST``); install the source user's key (``ssh-copy-id USER@HOST``); raise MaxStartups.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.model.findings import Scope, Severity, Status
from preflight.rulekit import Context, Outcome, failed, passed, skipped
from preflight.view.sshconn import ControlPath, RootTrust, SshCause, SshConnection, control_path, root_trust

ID = "SSH003"
NAME = "migration-ssh-connection"
SEVERITY = Severity.ERROR
SEVERITIES = (Severity.ERROR, Severity.WARNING)  # what its findings can carry
NEEDS = ("ssh_connect", "known_hosts")  # view facts read (preflight.view.needs)
SEED = "A qemu+ssh migration opens ssh from the source to the destination first (libvirt's remote transport)."

DST = Scope.DESTINATION


def remedy(conn: SshConnection, p2p: bool) -> str:
    """The exact remedy for the cause, with the host and the identity filled in."""
    host = conn.host
    home = "/root" if p2p or conn.uid == 0 else "~"
    kh = f"{home}/.ssh/known_hosts"
    login = conn.login or ("root" if p2p else conn.user) or "USER"
    as_user = "as root " if p2p and conn.uid != 0 else ""
    port = f" -p {conn.port}" if conn.port else ""
    return {
        SshCause.REFUSED: f"Start sshd on {host}: `systemctl start sshd` (and `systemctl enable sshd`), and check "
                          "that it listens on the port DESTURI names.",
        SshCause.TIMEOUT: f"Check that {host} is up and that its firewall accepts the ssh port from the source "
                          "(e.g. `firewall-cmd --add-service=ssh --permanent && firewall-cmd --reload`).",
        SshCause.NO_ROUTE: f"Check the network path from the source to {host} (address, routes, interface).",
        SshCause.NAME: f"Make {host} resolve on the source (DNS or /etc/hosts).",
        SshCause.HOST_KEY_UNKNOWN: f"Verify {host}'s host key fingerprint out of band (on {host}: `ssh-keygen -lf "
                                   f"/etc/ssh/ssh_host_ed25519_key.pub`), then {as_user}on the source: "
                                   f"`ssh-keyscan -t ed25519{port} {host} >> {kh}`.",
        SshCause.HOST_KEY_CHANGED: f"Find out why {host}'s host key changed (reinstall, or an attack); after "
                                   f"verifying the new fingerprint out of band, {as_user}on the source: "
                                   f"`ssh-keygen -R {host} -f {kh}`, then add the verified key "
                                   f"(`ssh-keyscan -t ed25519{port} {host} >> {kh}`).",
        SshCause.AUTH_DENIED: f"{as_user[:1].upper() + as_user[1:] if as_user else ''}On the source, install "
                              f"the key in {host}'s authorized_keys: `ssh-copy-id{port} {login}@{host}` (create "
                              "one first with `ssh-keygen -t ed25519` if there is none).",
        SshCause.DROPPED: f"Raise MaxStartups in {host}'s /etc/ssh/sshd_config (see SSH001) and reload sshd.",
        SshCause.OTHER: f"Run `ssh -o BatchMode=yes{port} {login}@{host} true` {as_user}on the source and fix "
                        "what it reports.",
    }[conn.failure]


def _judge(path: ControlPath, p2p: bool, trust: RootTrust | None) -> Iterator[Outcome]:
    conn = path.conn
    ev: dict[str, object] = {"identity": conn.identity, "cause": conn.cause or None, "ssh": conn.reason or None}
    if path.same:
        if conn.ok:
            yield passed(DST, f"{conn.identity} works: the migration's control connection "
                         f"({path.migration_identity}) authenticated with strict host key checking", evidence=ev)
        elif not path.certain_failure:  # ssh's words name no known cause: INS001 reports the host
            yield Outcome(Status.UNKNOWN, DST, f"{conn.identity} failed for a cause preflight does not "
                          f"recognise (ssh said: {conn.reason})", remediation=remedy(conn, p2p), evidence=ev,
                          severity=Severity.WARNING)
        else:
            yield failed(DST, f"the migration's control connection fails: {conn.identity}: {conn.explained} "
                         f"(ssh said: {conn.reason})", remedy(conn, p2p), evidence=ev)
        return
    proven = f"{conn.identity} {'works' if conn.ok else 'fails (' + conn.reason + ')'}"
    ev["not_proven"] = list(path.differences)
    files = ""
    if trust is not None:
        ev["root_known_hosts"] = dict(trust.known_hosts)
        ev["root_identity_files"] = dict(trust.identities)
        files = "; root's files on the source: " + (
            f"{trust.name}'s host key is in {', '.join(trust.found_in)}" if trust.found_in
            else f"no known_hosts file of root's holds {trust.name}'s host key") + (
            f", identity files {', '.join(trust.keys)}" if trust.keys else ", no identity file in /root/.ssh") + (
            f" ({', '.join(trust.unreadable)} unreadable)" if trust.unreadable else "")
        if p2p and not trust.found_in and not any(f for f, st in trust.known_hosts if st == "unreadable"):
            # libvirtd's ssh (root's) will not know the key: a failure unless root's ssh_config accepts
            # new keys, which these files cannot show: a warning-level failure, not a certainty
            yield Outcome(Status.FAIL, DST, f"--p2p: root's ssh on the source (libvirtd's) does not know "
                          f"{trust.name}'s host key{files}; proven only: {proven}",
                          remediation=f"As root on the source, after verifying the fingerprint out of band: "
                          f"`ssh-keyscan -t ed25519 {trust.name} >> /root/.ssh/known_hosts`.",
                          evidence=ev, severity=Severity.WARNING)
            return
    # The migration's own identity was not tried: UNKNOWN, at warning severity (the verdict stays with
    # the facts that were seen; this says what was and was not proven, and what to try by hand).
    yield Outcome(Status.UNKNOWN, DST, f"proven: {proven}; not proven: the migration's own connection "
                  f"({path.migration_identity}), because {'; '.join(path.differences)}{files}",
                  remediation="Run preflight on the source as the user that runs the migration (root for --p2p), "
                  "without --ssh-config, or try `ssh -o BatchMode=yes USER@HOST true` as that user on the source.",
                  evidence=ev, severity=Severity.WARNING)


def check(ctx: Context) -> Iterator[Outcome]:
    if not ctx.plan.uses_ssh:
        yield skipped(DST, f"transport {ctx.plan.dest_transport!r} does not use ssh")
        return
    path = control_path(ctx.plan, ctx.source, ctx.dest)
    if not path.ok:
        # Not reached over ssh (local, image root) or no record (a saved snapshot from an older
        # preflight): nothing was tried, so nothing is claimed; INS001 speaks for an unreachable host.
        yield skipped(DST, f"the migration's ssh connection was not tried by preflight ({path.reason})")
        return
    trust = None
    if not path.get().same and ctx.plan.dest_host:
        seen = root_trust(ctx.source, ctx.plan.dest_host)
        trust = seen.get() if seen.ok else None
    yield from _judge(path.get(), ctx.plan.p2p, trust)
