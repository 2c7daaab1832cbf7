"""/etc/hosts, read line by line exactly as glibc's files backend reads it.

The rules are those of nss/nss_readline.c, nss/nss_files/files-parse.c and
files-hosts.c (checked against ``getent`` by tests/parsers/test_hosts_differential.py):

- lines end at ``\\n`` only; a NUL byte ends the line's text;
- leading blanks are skipped; an empty line or one starting with ``#`` is skipped;
  a line is cut at the first ``#`` anywhere (``host#x`` is ``host``);
- fields are separated by runs of C ``isspace``: space, ``\\t``, ``\\n``, ``\\v``,
  ``\\f`` and ``\\r`` (so ``host2\\r`` is ``host2``), nothing else;
- the first field must pass ``inet_pton`` (IPv4 first, then IPv6): ``127.1``,
  ``010.0.0.1`` and ``fe80::1%eth0`` make glibc skip the line;
- then the canonical name and the aliases; a name is compared without regard
  to ASCII case only;
- a quirk kept on purpose: when the last line has leading blanks and no final
  newline (or a NUL byte), glibc's ``memmove`` leaves the last few characters
  doubled (``"  10.0.0.1 host"`` reads as ``10.0.0.1 hostst``).

Every entry that matches a name, in file order, is kept (``multi on``, the
Debian default); the first is what a lookup answers first. One pass, linear in
the size of the text.

>>> hosts = parse_hosts("127.0.0.1 localhost\\n10.0.0.20\\thost2.example.com host2 # dest\\n")
>>> hosts.addresses_for("HOST2")
['10.0.0.20']
>>> [e.line for e in hosts.lookup("localhost")]
[1]
>>> parse_hosts("127.0.0.1 host2\\r\\n10.0.0.20 host2\\n").lookup("host2")[0].address
'127.0.0.1'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from preflight.model.findings import ParseError
from preflight.parsers.inet import ntop, pton4, pton6

LENS = "Hosts.lns"  # still used by preflight.fix.hosts to edit the file in place

_SPACE = " \t\n\v\f\r"  # C isspace() in the C and UTF-8 locales
_FIELD = re.compile(r"[^ \t\n\v\f\r]+")
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_V4_MAPPED = bytes(10) + b"\xff\xff"
_V6_LOOPBACK = bytes(15) + b"\x01"


def fold(name: str) -> str:
    """strcasecmp's view of a name: ASCII letters folded, everything else (``K``, ``İ``) as is."""
    return name.lower() if name.isascii() else name.translate(_LOWER)  # lower() of ASCII folds A-Z only


@dataclass
class HostsEntry:
    address: str  # as glibc prints it (inet_ntop): "fe80::1", "::ffff:10.0.0.1"
    names: list[str]  # canonical name first, then aliases
    line: int
    family: int = 4  # 4 or 6: what the address is when asked for any family (getaddrinfo)
    written: str = ""  # the address as the file spells it
    packed: bytes = b""


@dataclass
class HostsFile:
    path: str
    entries: list[HostsEntry] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    _by_name: dict[str, list[HostsEntry]] = field(default_factory=dict, repr=False, compare=False)
    _indexed: int = field(default=-1, repr=False, compare=False)

    def lookup(self, name: str) -> list[HostsEntry]:
        """Entries naming ``name`` (ASCII case ignored), in file order, as glibc's files backend scans them."""
        if self._indexed != len(self.entries):  # an index, rebuilt when entries were added
            index: dict[str, list[HostsEntry]] = {}
            for entry in self.entries:
                for name_ in entry.names:
                    found = index.setdefault(fold(name_), [])
                    if not found or found[-1] is not entry:  # a name twice on one line: one entry
                        found.append(entry)
            self._by_name, self._indexed = index, len(self.entries)
        return list(self._by_name.get(fold(name), ()))

    def addresses_for(self, name: str) -> list[str]:
        """Addresses for ``name`` in file order, without repeats."""
        return list(dict.fromkeys(e.address for e in self.lookup(name)))

    def hostent(self, name: str, family: int) -> list[str]:
        """``gethostbyname2(name, AF_INET or AF_INET6)`` from this file (multi on), repeats kept.

        Asked for IPv4, an IPv4-mapped IPv6 line gives its IPv4 address and ``::1`` gives
        127.0.0.1; other IPv6 lines are skipped. Asked for IPv6, IPv4 lines are skipped.
        """
        out: list[str] = []
        for entry in self.lookup(name):
            if family == 6 and entry.family == 6:
                out.append(entry.address)
            elif family == 4 and entry.family == 4:
                out.append(entry.address)
            elif family == 4 and entry.packed.startswith(_V4_MAPPED):
                out.append(ntop(entry.packed[12:]))
            elif family == 4 and entry.packed == _V6_LOOPBACK:
                out.append("127.0.0.1")
        return out

    def getent_hosts(self, name: str) -> list[str]:
        """What ``getent hosts NAME`` lists: the IPv6 answer if there is one, else the IPv4 answer."""
        return self.hostent(name, 6) or self.hostent(name, 4)


def parse_hosts(text: str, path: str = "/etc/hosts") -> HostsFile:
    result = HostsFile(path)
    pieces = text.split("\n")
    last = len(pieces) - 1
    for index, raw in enumerate(pieces):
        if index == last and not raw:
            break  # the text ended with a newline
        fields = _fields(raw, newline=index < last)
        if fields is None:
            continue
        number = index + 1
        entry, why = _entry(fields, number)
        if entry is not None:
            result.entries.append(entry)
        else:
            result.errors.append(ParseError(path, number, why))
    return result


def _fields(raw: str, newline: bool) -> list[str] | None:
    """The line's fields as glibc splits them; None for a blank or comment line."""
    nul = raw.find("\0")
    if nul >= 0:
        raw, newline = raw[:nul], False
    text = raw + "\n" if newline else raw  # what fgets() leaves in the buffer, as a C string
    skip = len(text) - len(text.lstrip(_SPACE))
    if skip == len(text) or text[skip] == "#":
        return None
    if skip:
        # __nss_readline moves strlen(p) bytes down without the terminating NUL: the
        # old tail stays behind and is part of the line unless a newline ends it first.
        text = text[skip:] + text[len(text) - skip:]
    cut = len(text)
    for stop in ("#", "\n"):
        found = text.find(stop, 0, cut)
        if found >= 0:
            cut = found
    return _FIELD.findall(text, 0, cut)


@lru_cache(maxsize=1024)  # big files repeat a few addresses (0.0.0.0 in block lists)
def _address(written: str) -> tuple[bytes, int, str] | None:
    """inet_pton(AF_INET), else inet_pton(AF_INET6), as files-hosts.c tries them: (packed, family, as printed)."""
    packed = pton4(written)
    if packed is not None:
        return packed, 4, written  # pton4 takes only the canonical spelling
    packed = pton6(written)
    return None if packed is None else (packed, 6, ntop(packed))


def _entry(fields: list[str], number: int) -> tuple[HostsEntry | None, str]:
    written = fields[0]
    # INET6_ADDRSTRLEN - 1: no longer text is an address (and the cache keeps only short strings)
    address = _address(written) if len(written) <= 45 else None
    if address is None:
        hint = " (a scope id is not allowed here)" if "%" in written else ""
        return None, f"{written!r} is not an IP address{hint}; glibc ignores the line"
    if len(fields) < 2:
        return None, f"address {written!r} without a host name; the line is ignored"
    packed, family, shown = address
    return HostsEntry(shown, fields[1:], number, family, written, packed), ""
