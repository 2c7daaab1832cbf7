"""`iptables-save -t filter` output, and what the INPUT chain does to one TCP connection.

Only what a migration needs: would a NEW TCP connection from the source to a
port of the destination's migration range be accepted? Rules are walked in
order like the kernel does (user chains followed, RETURN honoured); a match
option this reader does not understand makes the answer "unknown", never a
guess.

>>> fw = parse_iptables_save("*filter\\n:INPUT ACCEPT [0:0]\\n"
...     "-A INPUT -p tcp -m tcp --dport 49152:49215 -j REJECT --reject-with icmp-port-unreachable\\nCOMMIT\\n")
>>> tcp_verdict(fw, 49152, ["198.18.0.11"]).verdict
'reject'
"""

from __future__ import annotations

import ipaddress
import shlex
from dataclasses import dataclass, field

TERMINAL = {"ACCEPT": "accept", "DROP": "drop", "REJECT": "reject"}


@dataclass
class IptablesFilter:
    policies: dict[str, str] = field(default_factory=dict)
    rules: dict[str, list[list[str]]] = field(default_factory=dict)  # chain -> argv of each -A
    lines: dict[int, str] = field(default_factory=dict)  # id(rule) -> the rule's text


@dataclass(frozen=True)
class Verdict:
    verdict: str  # accept | drop | reject | unknown
    rule: str | None  # the deciding rule, as written, or "policy DROP"
    reason: str = ""


def parse_iptables_save(text: str) -> IptablesFilter:
    fw = IptablesFilter()
    in_filter = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("*"):
            in_filter = line == "*filter"
        elif not in_filter or not line or line.startswith("#") or line == "COMMIT":
            continue
        elif line.startswith(":"):
            name, policy = (line[1:].split() + ["-"])[:2]
            fw.policies[name] = policy
            fw.rules.setdefault(name, [])
        elif line.startswith("-A "):
            argv = shlex.split(line)
            fw.rules.setdefault(argv[1], []).append(argv[2:])
            fw.lines[id(fw.rules[argv[1]][-1])] = line
    return fw


def _port_in(spec: str, port: int) -> bool:
    for part in spec.split(","):
        lo, _, hi = part.partition(":")
        if int(lo or 0) <= port <= int(hi or lo or 65535):
            return True
    return False


def _addr_in(spec: str, addrs: list[str]) -> bool | None:
    nets = [ipaddress.ip_network(s, strict=False) for s in spec.split(",")]
    if not addrs:
        return None  # cannot tell without the source's addresses
    ips = [ipaddress.ip_address(a) for a in addrs]
    return any(ip in net for ip in ips for net in nets if ip.version == net.version)


def _matches(argv: list[str], port: int, src: list[str]) -> bool | None:
    """True/False, or None when an option is beyond this reader."""
    i, negate = 0, False
    while i < len(argv):
        opt = argv[i]
        if opt == "!":
            negate, i = True, i + 1
            continue
        arg = argv[i + 1] if i + 1 < len(argv) else ""
        result: bool | None
        if opt in ("-j", "-g"):
            return True  # everything before the target matched
        if opt == "-m" or opt == "--comment":
            i += 2  # a module name or a comment never decides
            continue
        if opt == "--syn":
            i += 1  # the first packet of a NEW connection is a SYN
            continue
        if opt == "-p":
            result = arg in ("tcp", "6", "all")
        elif opt in ("--dport", "--destination-port", "--dports", "--destination-ports"):
            result = _port_in(arg, port)
        elif opt in ("--sport", "--source-port", "--sports", "--source-ports"):
            result = None  # the migration's source port is ephemeral
        elif opt in ("-s", "--source"):
            result = _addr_in(arg, src)
        elif opt in ("-i", "--in-interface"):
            result = False if arg == "lo" else None
        elif opt in ("--state", "--ctstate"):
            result = "NEW" in arg.split(",")
        elif opt in ("-d", "--destination"):
            result = None
        else:
            return None
        if result is not None and negate:
            result = not result
        negate = False
        if result is False:
            return False
        if result is None:
            return None
        i += 2
    return True


def tcp_verdict(fw: IptablesFilter, port: int, src: list[str], chain: str = "INPUT", depth: int = 0) -> Verdict:
    """What INPUT does to a NEW TCP connection from ``src`` to ``port``."""
    if depth > 10:
        return Verdict("unknown", None, "chains nest too deep")
    for argv in fw.rules.get(chain, []):
        text = fw.lines.get(id(argv), " ".join(argv))
        target = argv[argv.index("-j") + 1] if "-j" in argv else None
        matched = _matches(argv, port, src)
        if matched is None:
            return Verdict("unknown", text, "a rule's match options are beyond this reader")
        if not matched or target is None:
            continue
        if target in TERMINAL:
            return Verdict(TERMINAL[target], text)
        if target == "RETURN":
            return Verdict("return", text)
        if target in fw.rules:
            sub = tcp_verdict(fw, port, src, target, depth + 1)
            if sub.verdict != "return":
                return sub
            continue
        if target in ("LOG", "NFLOG", "MARK", "CONNMARK"):
            continue
        return Verdict("unknown", text, f"target {target} is beyond this reader")
    if depth:
        return Verdict("return", None)
    policy = fw.policies.get(chain, "ACCEPT")
    return Verdict(TERMINAL.get(policy, "unknown"), f"policy {policy}" if policy != "ACCEPT" else None)
