"""TLS003 qemu-tls-certificates — with ``--tls``, QEMU's migration certificates are present and valid.

What it checks
    For ``virsh migrate --tls``: QEMU's certificate directory
    (qemu.conf ``migrate_tls_x509_cert_dir``, else
    ``default_tls_x509_cert_dir``, else /etc/pki/qemu) holds on the
    destination ``ca-cert.pem``, ``server-cert.pem`` and ``server-key.pem``, on
    the source ``ca-cert.pem``, ``client-cert.pem`` and ``client-key.pem``
    (QEMU verifies the client by default, ``migrate_tls_x509_verify``). The
    certificates are valid, signed by both hosts' CAs, the server certificate
    names the host the migration stream connects to (``--migrateuri``'s
    host; else both DESTURI's host, the name QEMU checked in the lab, and
    qemu.conf ``migration_host`` or the destination's hostname), and the
    keys are not world-readable. A directory other than
    /etc/pki/qemu is not gathered: UNKNOWN, said so.

Why it breaks a migration
    libvirt refuses ``--tls`` when the directory lacks the files
    (``Cannot access ... server-cert.pem``), and QEMU's TLS handshake fails
    on an expired, untrusted or misnamed certificate after both sides were
    prepared.

How to fix it
    Install the CA and a server/client certificate pair for QEMU in
    /etc/pki/qemu (owned root:qemu, keys mode 640), or point
    ``migrate_tls_x509_cert_dir`` at where they are.
"""

from __future__ import annotations

from collections.abc import Iterator

from preflight.known import Known
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.view.tls import (
    QEMU_CLIENT,
    QEMU_DEFAULT_DIR,
    QEMU_SERVER,
    cert_file,
    judge_pki,
    name_problem,
    qemu_tls_dir,
)

ID = "TLS003"
NAME = "qemu-tls-certificates"
SEVERITY = Severity.ERROR
NEEDS = ("qemu_pki", "hostname")
LINT = ("destination", "source")  # roles judged alone by `preflight lint`
SEED = ("virsh migrate --tls needs QEMU's x509 certificates (qemu.conf migrate_tls_x509_cert_dir; beyond the "
        "RHEL guide).")

FIX = ("Install ca-cert.pem, server-cert.pem/server-key.pem (destination) and client-cert.pem/client-key.pem "
       "(source), issued by one CA, the server certificate naming the migration host, in /etc/pki/qemu "
       "(root:qemu, keys 640)")


def _stream_hosts(ctx: Context) -> list[str] | None:
    """The names QEMU's TLS client may check: --migrateuri's host when given; else DESTURI's host (measured:
    'Certificate does not match the hostname host2' for qemu+ssh://host2) and the destination's migration
    host name (qemu.conf migration_host, else its hostname): both, so a certificate naming one is not READY."""
    if ctx.plan.migrate_host:
        return [ctx.plan.migrate_host]
    conf = ctx.dest.qemu_conf
    entry = conf.get().get("migration_host") if conf.ok else None
    own = entry.value if entry is not None and isinstance(entry.value, str) and entry.value else ctx.dest.hostname.value
    if own is None:
        return None
    return list(dict.fromkeys(n for n in (ctx.plan.dest_host, own) if n))


def check(ctx: Context) -> Iterator[Outcome]:
    if not ctx.plan.tls:
        yield skipped(Scope.SOURCE, "no --tls: the migration stream is not QEMU-TLS encrypted")
        return
    hosts = _stream_hosts(ctx)
    sides = (
        (Scope.SOURCE, ctx.source, QEMU_CLIENT, ctx.dest, "the destination", None),
        (Scope.DESTINATION, ctx.dest, QEMU_SERVER, ctx.source, "the source", hosts),
    )
    for scope, view, pki, peer_view, peer, name in sides:
        role = pki.role
        where = qemu_tls_dir(view)
        if not where.ok:
            yield not_seen(scope, "QEMU's TLS certificate directory", where)
            continue
        if where.get() != QEMU_DEFAULT_DIR:
            yield not_seen(scope, f"QEMU's {role} certificates", Known(
                None, f"{where.get()} ({where.source}) is not gathered; run virt-pki-validate or check "
                      f"{where.get()} by hand"))
            continue
        j = judge_pki(view, pki, peer_view, peer, name[0] if name else None)
        for extra in (name or [])[1:]:
            if (p := name_problem(cert_file(view, pki.cert), extra)) and p not in j.problems:
                j.problems.append(p)
        if name is None and role == "server":
            j.unseen.append("the destination's migration host name is unknown")
        ev = {"directory": where.get(), "certificate": pki.cert, "key": pki.key, "notes": j.notes, "unseen": j.unseen}
        if j.problems:
            yield failed(scope, f"QEMU's {role} certificate set is not usable: " + "; ".join(j.problems), FIX,
                         evidence=ev)
        elif j.unseen:
            yield not_seen(scope, f"QEMU's {role} certificate set",
                           Known(None, "; ".join(j.unseen), j.not_applicable), evidence=ev)
        else:
            named = f", names {' and '.join(name)}" if name else ""
            yield passed(scope, f"QEMU's {role} certificate is valid, signed by both CAs{named}; key not "
                         "world-readable", evidence=ev)
