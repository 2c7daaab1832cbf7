"""sshd's keyword table and argument checks (OpenSSH 9.2 servconf.c), for what the parser judges.

Only keywords whose handling is ported here are checked for their values and
for extra arguments; the others are taken as written. Keywords sshd does not
know are not reported: distributions patch in their own (DebianBanner,
GSSAPIKeyExchange ...), and no table here can list them all.
"""

from __future__ import annotations

from collections.abc import Callable

INT_MAX = 2**31 - 1
_C_SPACE = " \t\n\v\f\r"  # isspace() in the C locale
_DIGITS = "0123456789"

# SSHCFG_ALL in keywords[]: allowed inside Match blocks (and applied per connection).
MATCH_ALLOWED = frozenset(
    """
acceptenv allowagentforwarding allowgroups allowstreamlocalforwarding allowtcpforwarding allowusers
authenticationmethods authorizedkeyscommand authorizedkeyscommanduser authorizedkeysfile authorizedkeysfile2
authorizedprincipalscommand authorizedprincipalscommanduser authorizedprincipalsfile banner
casignaturealgorithms challengeresponseauthentication channeltimeout chrootdirectory clientalivecountmax
clientaliveinterval denygroups denyusers disableforwarding exposeauthinfo forcecommand gatewayports
gssapiauthentication hostbasedacceptedalgorithms hostbasedacceptedkeytypes hostbasedauthentication
hostbasedusesnamefrompacketonly ignorerhosts include ipqos kbdinteractiveauthentication kerberosauthentication
loglevel logverbose match maxauthtries maxsessions passwordauthentication permitemptypasswords permitlisten
permitopen permitrootlogin permittty permittunnel permituserrc pubkeyacceptedalgorithms pubkeyacceptedkeytypes
pubkeyauthentication pubkeyauthoptions rdomain rekeylimit requiredrsasize revokedkeys rhostsrsaauthentication
rsaauthentication setenv skeyauthentication streamlocalbindmask streamlocalbindunlink trustedusercakeys
unusedconnectiontimeout x11displayoffset x11forwarding x11uselocalhost
""".split()
)

# SSHCFG_GLOBAL: sshd refuses them inside a Match block that does not apply at startup.
GLOBAL_ONLY = frozenset(
    """
addressfamily afstokenpassing checkmail ciphers compression dsaauthentication fingerprinthash
gssapicleanupcredentials gssapistrictacceptorcheck hostcertificate hostdsakey hostkey hostkeyagent
hostkeyalgorithms ignoreuserknownhosts keepalive kerberosgetafstoken kerberosorlocalpasswd kerberostgtpassing
kerberosticketcleanup kexalgorithms keyregenerationinterval listenaddress logingracetime macs maxstartups
modulifile pamauthenticationviakbdint permituserenvironment persourcemaxstartups persourcenetblocksize pidfile
port printlastlog printmotd protocol reversemappingcheck rhostsauthentication securitykeyprovider serverkeybits
strictmodes subsystem syslogfacility tcpkeepalive usedns uselogin usepam useprivilegeseparation
verifyreversemapping versionaddendum xauthlocation
""".split()
)

_FLAG = ("yes", "no")
_MULTISTATE = {
    "passwordauthentication": _FLAG, "pubkeyauthentication": _FLAG, "kbdinteractiveauthentication": _FLAG,
    "challengeresponseauthentication": _FLAG, "usedns": _FLAG, "usepam": _FLAG, "x11forwarding": _FLAG,
    "printmotd": _FLAG, "strictmodes": _FLAG, "permitemptypasswords": _FLAG, "tcpkeepalive": _FLAG,
    "permitrootlogin": ("without-password", "prohibit-password", "forced-commands-only", "yes", "no"),
    "addressfamily": ("inet", "inet6", "any"),
}  # fmt: skip
_NON_NEGATIVE = ("maxsessions", "maxauthtries", "clientalivecountmax")
# One argument, then servconf.c's "extra arguments at end of line" check.
SINGLE_ARGUMENT = frozenset(
    [*_MULTISTATE, *_NON_NEGATIVE, "port", "maxstartups", "persourcemaxstartups", "persourcenetblocksize",
     "logingracetime", "clientaliveinterval", "pidfile", "hostkey", "ciphers", "macs", "kexalgorithms",
     "loglevel", "syslogfacility", "banner"]
)  # fmt: skip


def check(key: str, args: list[str]) -> str | None:
    """The value sshd stores for ``key`` (lower case) from ``args``, normalised where ported
    ("0x" never: base 10), or None to keep the words as written. Raises ValueError as sshd
    would refuse the line."""
    handler = _HANDLERS.get(key)
    if key in SINGLE_ARGUMENT and (not args or args[0] == ""):
        raise ValueError(f"{key}: missing argument")
    value = None if handler is None else handler(key, args[0])
    if key == "acceptenv" and any(not arg or "=" in arg for arg in args):
        raise ValueError("Invalid environment name")
    if key in SINGLE_ARGUMENT and len(args) > 1:
        raise ValueError("extra arguments at end of line")
    return value


def strtonum(text: str, low: int, high: int) -> int:
    """OpenBSD strtonum (base 10, leading blanks and a sign allowed, nothing after the digits)."""
    value, end = _leading_int(text, 0)
    if value is None or end != len(text):
        raise ValueError("invalid")
    if value < low:
        raise ValueError("too small")
    if value > high:
        raise ValueError("too large")
    return value


def scan_ints(text: str, count: int) -> list[int]:
    """sscanf(text, "%d:%d:...") with ``count`` conversions: the values it assigns, in order."""
    out: list[int] = []
    at = 0
    for index in range(count):
        if index and not text.startswith(":", at):
            break
        value, end = _leading_int(text, at + (1 if index else 0))
        if value is None:
            break
        # glibc reads a long (saturating) and stores its low 32 bits in the int
        value = max(-(2**63), min(2**63 - 1, value))
        value = (value + 2**31) % 2**32 - 2**31
        out.append(value)
        at = end
    return out


def max_startups_fields(value: str) -> tuple[int, int | None, int]:
    """(start, rate or None when not given, full) as servconf.c accepts them."""
    got = scan_ints(value, 3)
    if len(got) == 3:
        start, rate, full = got
        if start > full or not 1 <= rate <= 100:
            raise ValueError(f"invalid MaxStartups spec {value!r}")
    elif len(got) == 1:
        start, rate, full = got[0], None, got[0]
    else:
        raise ValueError(f"invalid MaxStartups spec {value!r}")
    if start <= 0 or full <= 0:
        raise ValueError(f"invalid MaxStartups spec {value!r}")
    return start, rate, full


def _leading_int(text: str, at: int) -> tuple[int | None, int]:
    i, n = at, len(text)
    while i < n and text[i] in _C_SPACE:
        i += 1
    start = i
    if i < n and text[i] in "+-":
        i += 1
    digits = i
    while i < n and text[i] in _DIGITS:
        i += 1
    if i == digits:
        return None, at
    if i - digits > 40:  # far beyond any 64-bit value: only its sign matters
        return (-(10**40) if text[start] == "-" else 10**40), i
    return int(text[start:i]), i


def _port(key: str, arg: str) -> str:
    try:
        port = strtonum(arg, 0, 65535)
    except ValueError:
        # a2port then asks getservbyname: the answer is in the host's /etc/services, not here
        raise ValueError(f"Port {arg!r}: not a number (a service name depends on the host's /etc/services)") from None
    if port <= 0:
        raise ValueError("Badly formatted port number")
    return str(port)


def _max_startups(key: str, arg: str) -> str:
    max_startups_fields(arg)
    return arg


def _per_source_max_startups(key: str, arg: str) -> str:
    if arg == "none":  # strcmp: "None" is refused
        return "none"
    value = _non_negative(key, arg)
    return "none" if value == str(INT_MAX) else value  # INT_MAX is how sshd stores "none"


def _per_source_net_block_size(key: str, arg: str) -> str:
    got = scan_ints(arg, 2)
    if not got or not 0 <= got[0] <= 32 or (len(got) == 2 and not 0 <= got[1] <= 128):
        raise ValueError(f"invalid PerSourceNetBlockSize spec {arg!r}")
    return arg


def _non_negative(key: str, arg: str) -> str:
    try:
        return str(strtonum(arg, 0, INT_MAX))
    except ValueError as exc:
        raise ValueError(f"{key} integer value {exc}") from None


def _multistate(key: str, arg: str) -> str:
    if arg.lower() not in _MULTISTATE[key]:
        raise ValueError(f"unsupported option {arg!r}")
    return arg.lower()


_HANDLERS: dict[str, Callable[[str, str], str]] = {
    "port": _port,
    "maxstartups": _max_startups,
    "persourcemaxstartups": _per_source_max_startups,
    "persourcenetblocksize": _per_source_net_block_size,
    **{k: _non_negative for k in _NON_NEGATIVE},
    **{k: _multistate for k in _MULTISTATE},
}
