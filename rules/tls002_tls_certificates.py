"""TLS002 tls-certificates — libvirt's TLS certificates are present and valid for a qemu+tls migration.

What it checks
    For a ``qemu+tls://`` DESTURI, what ``virt-pki-validate`` checks, judged
    from the gathered files: on the source the CA (/etc/pki/CA/cacert.pem),
    the client certificate (/etc/pki/libvirt/clientcert.pem) and its key
    (private/clientkey.pem); on the destination the CA, the server
    certificate (servercert.pem) and its key (private/serverkey.pem). Each
    certificate exists, is valid at gathering time, is signed by its own
    host's CA and by the peer's CA (RSA signatures verified; other algorithms
    by issuer name only, said in the evidence); the server certificate names
    DESTURI's host (subjectAltName DNS/IP, else CN); a key exists and is not
    world-readable. Key contents are never read, only their mode.
    Certificates moved elsewhere (the server's ``ca_file``, ``cert_file``,
    ``key_file`` settings; the client's ``?pkipath=`` in DESTURI) are not
    gathered: UNKNOWN, said so.

Why it breaks a migration
    The TLS handshake fails before any migration starts: ``The server
    certificate ... has expired``, ``Certificate ... owner does not match
    the hostname host2``, ``The client certificate is not trusted``; a
    world-readable key lets any local user impersonate the host.

How to fix it
    Issue the certificates from one CA (``certtool --generate-certificate``
    with ``dns_name`` = DESTURI's host for the server), install them at the
    paths above, ``chmod 600`` the keys, and run ``virt-pki-validate`` on both
    hosts.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

from preflight.known import Known
from preflight.model.findings import Scope, Severity
from preflight.rulekit import Context, Outcome, failed, not_seen, passed, skipped
from preflight.view.tls import LIBVIRT_CLIENT, LIBVIRT_SERVER, judge_pki, moved_server_pki

ID = "TLS002"
NAME = "tls-certificates"
SEVERITY = Severity.ERROR
NEEDS = ("pki",)
LINT = ("destination", "source")  # roles judged alone by `preflight lint`
SEED = ("libvirt's TLS transport needs a CA, a server and a client certificate (virt-pki-validate; beyond the "
        "RHEL guide).")

FIX = ("Issue the certificates from one CA (server certificate naming DESTURI's host), install them under "
       "/etc/pki/CA and /etc/pki/libvirt, chmod 600 the keys, and run virt-pki-validate on both hosts")


def check(ctx: Context) -> Iterator[Outcome]:
    if ctx.plan.dest_transport != "tls":
        yield skipped(Scope.SOURCE, f"transport '{ctx.plan.dest_transport}' does not use libvirt's TLS")
        return
    host = ctx.plan.dest_host or ""
    sides = (
        (Scope.SOURCE, ctx.source, LIBVIRT_CLIENT, ctx.dest, "the destination", None),
        (Scope.DESTINATION, ctx.dest, LIBVIRT_SERVER, ctx.source, "the source", host),
    )
    moved = {Scope.SOURCE: [f"DESTURI's pkipath={p}" for p in parse_qs(urlsplit(ctx.plan.dest_uri).query)
                            .get("pkipath", [])],
             Scope.DESTINATION: moved_server_pki(ctx.dest)}
    for scope, view, pki, peer_view, peer, name in sides:
        role = pki.role
        if moved[scope]:
            yield not_seen(scope, f"the {role} certificate set", Known(
                None, f"{'; '.join(moved[scope])}: files outside the default paths are not gathered; run "
                      "virt-pki-validate there"))
            continue
        j = judge_pki(view, pki, peer_view, peer, name)
        ev = {"certificate": pki.cert, "key": pki.key, "ca": pki.ca, "notes": j.notes, "unseen": j.unseen}
        if j.problems:
            yield failed(scope, f"the {role} certificate set is not usable: " + "; ".join(j.problems), FIX,
                         evidence=ev)
        elif j.unseen:
            yield not_seen(scope, f"the {role} certificate set", Known(None, "; ".join(j.unseen), j.not_applicable),
                           evidence=ev)
        else:
            named = f", names {name}" if name else ""
            yield passed(scope, f"the {role} certificate is valid, signed by both CAs{named}; key not "
                         "world-readable", evidence=ev)
