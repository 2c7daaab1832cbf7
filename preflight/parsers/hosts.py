"""/etc/hosts, read with the stock Augeas ``Hosts`` lens, looked up like glibc.

>>> hosts = parse_hosts("127.0.0.1 localhost\\n10.0.0.20\\thost2.example.com host2 # dest\\n")
>>> hosts.addresses_for("HOST2")
['10.0.0.20']
>>> [e.line for e in hosts.lookup("localhost")]
[1]
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from preflight.model.findings import ParseError
from preflight.parsers.augeas_util import Node, parse_text

LENS = "Hosts.lns"


@dataclass
class HostsEntry:
    address: str
    names: list[str]  # canonical name first, then aliases
    line: int


@dataclass
class HostsFile:
    path: str
    entries: list[HostsEntry] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)

    def lookup(self, name: str) -> list[HostsEntry]:
        """Entries naming ``name`` (any case), in file order, as glibc's files backend scans them."""
        wanted = name.lower()
        return [e for e in self.entries if any(n.lower() == wanted for n in e.names)]

    def addresses_for(self, name: str) -> list[str]:
        """Addresses for ``name`` in file order, without repeats."""
        seen: list[str] = []
        for entry in self.lookup(name):
            if entry.address not in seen:
                seen.append(entry.address)
        return seen


def parse_hosts(text: str, path: str = "/etc/hosts") -> HostsFile:
    result = HostsFile(path)
    try:
        nodes = parse_text(LENS, text, path)
    except ParseError:
        # The lens rejects the whole file for one bad line; glibc skips just
        # that line. Parse line by line to keep the others and report each bad one.
        for number, line_text in enumerate(text.splitlines(), start=1):
            try:
                line_nodes = parse_text(LENS, line_text, path)
            except ParseError as exc:
                result.errors.append(ParseError(path, number, _why(line_text, exc.message)))
                continue
            _collect(line_nodes, result, line_offset=number - 1)
        return result
    _collect(nodes, result, line_offset=0)
    return result


def _collect(nodes: list[Node], result: HostsFile, line_offset: int) -> None:
    for node in nodes:
        if node.label.startswith("#"):
            continue
        address = node.first("ipaddr")
        canonical = node.first("canonical")
        if address is None or address.value is None or canonical is None or canonical.value is None:
            continue
        line = (node.line or 1) + line_offset
        if not _is_address(address.value):
            # glibc's parser drops lines whose address does not parse.
            result.errors.append(
                ParseError(result.path, line, f"{address.value!r} is not an IP address; the line is ignored")
            )
            continue
        names = [canonical.value] + [c.value for c in node.children if c.label == "alias" and c.value]
        result.entries.append(HostsEntry(address.value, names, line))


def _why(line_text: str, lens_message: str) -> str:
    fields = line_text.split("#", 1)[0].split()
    if len(fields) == 1:
        return f"address {fields[0]!r} without a host name; the line is ignored"
    return f"not a hosts entry ({lens_message}); the line is ignored"


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%", 1)[0])  # fe80::1%eth0: scope ids are allowed
    except ValueError:
        return False
    return True
