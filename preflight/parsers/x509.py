"""PEM X.509 certificates read offline: the fields virt-pki-validate judges, no crypto library.

A minimal DER reader (no ``cryptography`` in the runtime dependencies): validity, subject and
issuer (their DER, compared byte for byte as gnutls does), CN, subjectAltName DNS names and IP
addresses, basicConstraints CA, key identifiers, and an RSA PKCS#1 v1.5 signature check by a
CA's public key (the usual libvirt/certtool certificate). Other signature algorithms are not
verified here (:func:`signed_by` says so). Everything inspected is hostile: a malformed
certificate is a :class:`CertError`, never an IndexError.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

_PEM = re.compile(r"-----BEGIN CERTIFICATE-----\r?\n(.*?)-----END CERTIFICATE-----", re.S)

OID_CN = bytes.fromhex("550403")
OID_SAN = bytes.fromhex("551d11")
OID_BASIC = bytes.fromhex("551d13")
OID_SKI = bytes.fromhex("551d0e")
OID_AKI = bytes.fromhex("551d23")
OID_RSA = bytes.fromhex("2a864886f70d010101")
# sha*WithRSAEncryption -> (hashlib name, DigestInfo prefix)
_RSA_SIGS = {
    bytes.fromhex("2a864886f70d010105"): ("sha1", "3021300906052b0e03021a05000414"),
    bytes.fromhex("2a864886f70d01010b"): ("sha256", "3031300d060960864801650304020105000420"),
    bytes.fromhex("2a864886f70d01010c"): ("sha384", "3041300d060960864801650304020205000430"),
    bytes.fromhex("2a864886f70d01010d"): ("sha512", "3051300d060960864801650304020305000440"),
}


_LABELS = {"550403": "CN", "550406": "C", "550407": "L", "550408": "ST", "55040a": "O", "55040b": "OU"}


class CertError(ValueError):
    pass


@dataclass(frozen=True)
class Cert:
    subject: str  # "CN=host2,O=lab" (attribute OIDs other than CN shown dotted)
    issuer: str
    subject_der: bytes
    issuer_der: bytes
    not_before: datetime
    not_after: datetime
    common_names: tuple[str, ...]
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    is_ca: bool
    tbs: bytes  # the signed part, for signed_by
    sig_alg: bytes
    signature: bytes
    public_key: tuple[int, int] | None  # RSA (n, e); None for other key types
    ski: bytes | None = None
    aki: bytes | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def names(self) -> tuple[str, ...]:
        """The names a TLS client matches: SAN DNS names when present, else the CN (RFC 6125)."""
        return self.dns_names or self.common_names


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise CertError("truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise CertError("bad DER length")
        length = int.from_bytes(data[pos:pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise CertError("truncated DER")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, content start, content end, element start) of each element in data[start:end]."""
    out = []
    pos = start
    while pos < end:
        tag, s, e = _tlv(data, pos)
        if e > end:
            raise CertError("element overruns its parent")
        out.append((tag, s, e, pos))
        pos = e
    return out


def _time(tag: int, raw: bytes) -> datetime:
    text = raw.decode("ascii", "replace")
    try:
        if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
            t = datetime.strptime(text, "%y%m%d%H%M%SZ")
        elif tag == 0x18:
            t = datetime.strptime(text, "%Y%m%d%H%M%SZ")
        else:
            raise CertError(f"validity time of tag {tag:#x}")
    except ValueError as exc:
        raise CertError(f"bad validity time {text!r}") from exc
    return t.replace(tzinfo=timezone.utc)


def _name(data: bytes, s: int, e: int) -> tuple[str, list[str]]:
    parts, cns = [], []
    for _, rs, re_, _ in _children(data, s, e):  # RDN SETs
        for _, as_, ae, _ in _children(data, rs, re_):  # AttributeTypeAndValue
            kids = _children(data, as_, ae)
            if len(kids) < 2:
                raise CertError("bad name attribute")
            oid = data[kids[0][1]:kids[0][2]]
            value = data[kids[1][1]:kids[1][2]].decode("utf-8", "replace")
            label = _LABELS.get(oid.hex(), "OID." + oid.hex())
            parts.append(f"{label}={value}")
            if oid == OID_CN:
                cns.append(value)
    return ",".join(parts), cns


def _int(data: bytes, s: int, e: int) -> int:
    return int.from_bytes(data[s:e], "big")


def _rsa_key(data: bytes, s: int, e: int) -> tuple[int, int] | None:
    kids = _children(data, s, e)  # AlgorithmIdentifier, BIT STRING
    if len(kids) < 2:
        raise CertError("bad subjectPublicKeyInfo")
    alg = _children(data, kids[0][1], kids[0][2])
    if not alg or data[alg[0][1]:alg[0][2]] != OID_RSA:
        return None
    bits = kids[1]
    inner = _children(data, bits[1] + 1, bits[2])  # skip the unused-bits octet
    rsa = _children(data, inner[0][1], inner[0][2]) if inner else []
    if len(rsa) < 2:
        raise CertError("bad RSA public key")
    return _int(data, rsa[0][1], rsa[0][2]), _int(data, rsa[1][1], rsa[1][2])


def parse_der(der: bytes) -> Cert:
    _, cs, ce = _tlv(der, 0)
    top = _children(der, cs, ce)
    if len(top) != 3:
        raise CertError("not a certificate (3 elements expected)")
    tbs_el, alg_el, sig_el = top
    tbs = der[tbs_el[3]:tbs_el[2]]
    fields = _children(der, tbs_el[1], tbs_el[2])
    if fields and fields[0][0] == 0xA0:  # explicit version
        fields = fields[1:]
    if len(fields) < 6:
        raise CertError("truncated tbsCertificate")
    _serial, _alg, issuer, validity, subject, spki = fields[:6]
    times = _children(der, validity[1], validity[2])
    if len(times) != 2:
        raise CertError("bad validity")
    subj_text, cns = _name(der, subject[1], subject[2])
    iss_text, _ = _name(der, issuer[1], issuer[2])
    dns: list[str] = []
    ips: list[str] = []
    is_ca = False
    ski = aki = None
    for ext in (f for f in fields[6:] if f[0] == 0xA3):
        seq = _children(der, ext[1], ext[2])
        for _, es, ee, _ in (_children(der, seq[0][1], seq[0][2]) if seq else []):
            parts = _children(der, es, ee)
            oid = der[parts[0][1]:parts[0][2]]
            _, vs, ve, _ = parts[-1]  # the OCTET STRING (after an optional critical BOOLEAN)
            if oid == OID_SAN:
                _, ss, se = _tlv(der, vs)
                for tag, gs, ge, _ in _children(der, ss, se):
                    if tag == 0x82:
                        dns.append(der[gs:ge].decode("ascii", "replace"))
                    elif tag == 0x87 and ge - gs in (4, 16):
                        ips.append(str(ipaddress.ip_address(der[gs:ge])))
            elif oid == OID_BASIC:
                _, bs, be = _tlv(der, vs)
                flags = _children(der, bs, be)
                is_ca = bool(flags and flags[0][0] == 0x01 and der[flags[0][1]:flags[0][2]] != b"\x00")
            elif oid == OID_SKI:
                _, ks, ke = _tlv(der, vs)
                ski = der[ks:ke]
            elif oid == OID_AKI:
                _, as_, ae = _tlv(der, vs)
                ids = [c for c in _children(der, as_, ae) if c[0] == 0x80]
                aki = der[ids[0][1]:ids[0][2]] if ids else None
    alg = _children(der, alg_el[1], alg_el[2])
    return Cert(
        subject=subj_text, issuer=iss_text,
        subject_der=der[subject[3]:subject[2]], issuer_der=der[issuer[3]:issuer[2]],
        not_before=_time(times[0][0], der[times[0][1]:times[0][2]]),
        not_after=_time(times[1][0], der[times[1][1]:times[1][2]]),
        common_names=tuple(cns), dns_names=tuple(dns), ip_addresses=tuple(ips), is_ca=is_ca,
        tbs=tbs, sig_alg=der[alg[0][1]:alg[0][2]] if alg else b"", signature=der[sig_el[1] + 1:sig_el[2]],
        public_key=_rsa_key(der, spki[1], spki[2]), ski=ski, aki=aki,
    )


def parse_pem(text: str) -> list[Cert]:
    """Every certificate of a PEM file, in order. CertError when there is none or one is malformed."""
    blocks = _PEM.findall(text)
    if not blocks:
        raise CertError("no PEM certificate in the file")
    out = []
    for block in blocks:
        try:
            der = base64.b64decode("".join(block.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CertError(f"bad base64: {exc}") from exc
        out.append(parse_der(der))
    return out


def signed_by(cert: Cert, ca: Cert) -> bool | None:
    """True/False when the signature could be checked (RSA), None when this reader cannot verify it.

    The issuer name must equal the CA's subject (and the key identifiers agree when both exist)
    before any signature counts.
    """
    if cert.issuer_der != ca.subject_der:
        return False
    if cert.aki is not None and ca.ski is not None and cert.aki != ca.ski:
        return False
    algo = _RSA_SIGS.get(cert.sig_alg)
    if algo is None or ca.public_key is None:
        return None
    n, e = ca.public_key
    k = (n.bit_length() + 7) // 8
    em = pow(int.from_bytes(cert.signature, "big"), e, n).to_bytes(k, "big")
    digest = bytes.fromhex(algo[1]) + hashlib.new(algo[0], cert.tbs).digest()
    expected = b"\x00\x01" + b"\xff" * (k - len(digest) - 3) + b"\x00" + digest
    return em == expected


def names_host(cert: Cert, host: str) -> bool:
    """Whether the certificate names ``host`` as gnutls_x509_crt_check_hostname does (one-label wildcards)."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None:
        return str(ip) in cert.ip_addresses
    want = host.lower().rstrip(".")
    for name in cert.names():
        pat = name.lower().rstrip(".")
        if pat == want:
            return True
        if pat.startswith("*.") and "." in want and want.split(".", 1)[1] == pat[2:] and want.split(".", 1)[0]:
            return True
    return False
