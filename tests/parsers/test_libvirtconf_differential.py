"""parse_libvirt_conf() against the real libvirtd: generated libvirtd.conf files, started for real.

All cases run in ONE private mount namespace (tmpfs over /run, /var/lib/libvirt, /var/cache/libvirt,
/var/log/libvirt, as tests/support/libvirtd_server.py does), one daemon after the other: each
generated file is given to ``libvirtd -f FILE`` (no hypervisor driver loaded:
LIBVIRT_DRIVER_DIR points at an empty directory; reading the config is the same). A daemon that
brings up its admin socket is asked ``virt-admin srv-clients-info`` and ``srv-threadpool-info`` and
stopped; one that exits has refused the file, and its last error line says why.

Compared for every file:
- accepted or refused, as our parser predicts (syntax error, a typed read in ``invalid``, or
  ``max_anonymous_clients > max_clients`` which virNetServerNew refuses);
- refused: libvirt's line and message for a syntax error / a typed read;
- accepted: max_clients, max_anonymous_clients, max_workers, min_workers (clamped to max_workers)
  and prio_workers equal the effective values (the file's first occurrence, else the default).

PREFLIGHT_LIBVIRTD_DIFF_CASES (default 200) sets the number of files.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from preflight.defaults import libvirt_defaults
from preflight.parsers.libvirt_daemon import effective_uint
from preflight.parsers.libvirtconf import LibvirtConf, parse_libvirt_conf
from tests.support.skips import skip_or_fail

pytestmark = pytest.mark.libvirtd

CASES = int(os.environ.get("PREFLIGHT_LIBVIRTD_DIFF_CASES", "200"))
SEED = 20261130
DEFAULTS = libvirt_defaults("9.0.0")

SMALL = ["0", "1", "2", "5", "7", "9", "12", "20", "+4", "-1", "-0", "007", "18446744073709551617",
         "18446744073709551616", "4294967296"]
BIG = ["19", "20", "21", "50", "100", "5000", "4294967295", "4294967296", "9223372036854775808",
       "18446744073709551615", "99999999999999999999999", "-5"]
STRINGS = ['"5"', "'20'", '"""50"""', '"none"', "'bogus'", '""']
LISTS = ["[ 5 ]", '[ "a", ]', '[ "a",\n  "b" ]', '[ [ "x" ], 1 ]', "[ ]", "[\n]"]
BROKEN = ["abc", '"unterminated', "'also", "[ 1, 2", "[ 1 2 ]", "+", "-", "", "5 6", '"""never ends', "[ , ]",
          "1.5", "0x10", "# only a comment"]
WORKERS = ["min_workers", "max_workers", "prio_workers"]  # small values only: the daemon starts these threads
LIMITS = ["max_clients", "max_anonymous_clients", "max_queued_clients", "max_client_requests", "keepalive_count",
          "keepalive_interval"]
TYPED = {"listen_tcp": ["0", "1", "2", '"1"'], "audit_logging": ["0", "1", "-0"],
         "tcp_min_ssf": ["56", "111", "112", "256", "1"],
         "tls_priority": ['"NORMAL"', "5"], "auth_unix_ro": ['"none"', '"bogus"', "1"],
         "sasl_allowed_username_list": ['[ "a" ]', '"a"', "[ 1 ]"], "log_level": ['"3"'], "host_uuid": ["1"],
         "access_drivers": ['"polkit"', "[ 1 ]"],
         "admin_max_clients": ["5000", '"5"', "-1", "4294967296"]}  # 0 would lock virt-admin out
UNKNOWN = ["foo", "max_clientz", "Max_clients", "max_requests", "a1_b2"]


def _value(rng: random.Random, key: str) -> str:
    roll = rng.random()
    if key in TYPED:
        return rng.choice(TYPED[key])
    if roll < 0.08:
        return rng.choice(BROKEN)
    if roll < 0.16:
        return rng.choice(STRINGS)
    if roll < 0.20:
        return rng.choice(LISTS)
    return rng.choice(SMALL if key in WORKERS else BIG if rng.random() < 0.7 else SMALL)


def _statement(rng: random.Random) -> str:
    pick = rng.random()
    key = (rng.choice(WORKERS) if pick < 0.3 else rng.choice(LIMITS) if pick < 0.75
           else rng.choice(list(TYPED)) if pick < 0.9 else rng.choice(UNKNOWN))
    eq = rng.choice([" = ", "=", "\t=\t", " =", " = ", " = "]) if rng.random() > 0.02 else " "
    text = rng.choice(["", "", "", " ", "\t"]) + key + eq + _value(rng, key)
    tail = rng.random()
    if tail < 0.1:
        text += rng.choice(["  # comment", "#c", "\t# max_clients = 1"])
    elif tail < 0.15:
        text += rng.choice([" ", "\t"])
    return text


def random_conf(rng: random.Random) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(0, 8)):
        kind = rng.random()
        if kind < 0.15:
            parts.append(rng.choice(["# a comment", "#max_clients = 5000", "   # indented", ""]))
        else:
            parts.append(_statement(rng))
    seps = [rng.choice(["\n", "\n", "\n", "\r\n", ";", "; ", "\r", "\n\n"]) for _ in parts]
    text = "".join(p + s for p, s in zip(parts, seps))
    if parts and rng.random() < 0.15:
        text = text.rstrip("\n;\r ")  # no final separator
    if rng.random() < 0.02:
        cut = rng.randrange(len(text) + 1)
        text = text[:cut] + "\0" + text[cut:]
    if rng.random() < 0.02:
        text = rng.choice(["", "\n", "  \n\n", "# only\n"])
    return text


# --- the real libvirtd -----------------------------------------------------------------------

SCRIPT = r"""
set -e
cd "$1"
for d in /run /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do mount -t tmpfs tmpfs "$d"; done
set +e
for c in cases/*/libvirtd.conf; do
  printf '@@ %s\n' "${c#cases/}"
  LIBVIRT_DRIVER_DIR="$1/nodrivers" libvirtd -f "$1/$c" -p /run/preflight-test.pid 2>"$1/err" &
  pid=$!
  i=0
  while [ ! -S /run/libvirt/libvirt-admin-sock ] && kill -0 "$pid" 2>/dev/null && [ "$i" -lt 1000 ]; do
    sleep 0.005; i=$((i+1))
  done
  if [ -S /run/libvirt/libvirt-admin-sock ]; then
    timeout 10 virt-admin -c libvirtd:///system srv-clients-info libvirtd
    timeout 10 virt-admin -c libvirtd:///system srv-threadpool-info libvirtd
    kill "$pid"
  fi
  wait "$pid"
  printf '@@rc %s\n' "$?"
  grep ' error : ' "$1/err" | tail -1 | sed 's/^.* error : /@@err /'
  rm -rf /run/libvirt /run/preflight-test.pid
done
"""


@dataclass
class Outcome:
    rc: int
    values: dict[str, int] = field(default_factory=dict)
    error: str = ""

    @property
    def started(self) -> bool:
        return bool(self.values)


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "starting libvirtd in a mount namespace needs root"
    for tool in ("unshare", "libvirtd", "virt-admin", "timeout"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


@pytest.fixture(scope="module")
def libvirtd_available() -> None:
    reason = _unavailable()
    if reason:
        skip_or_fail(reason)


def run_libvirtd(work: Path, texts: list[str]) -> list[Outcome]:
    (work / "nodrivers").mkdir()
    (work / "cases").mkdir()
    for i, text in enumerate(texts):
        case = work / "cases" / f"{i:05d}"
        case.mkdir()
        (case / "libvirtd.conf").write_bytes(text.encode("utf-8", "surrogateescape"))
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"}
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", SCRIPT, "sh", str(work)],
                          capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stderr
    outcomes: list[Outcome] = []
    for raw in done.stdout.splitlines():
        if raw.startswith("@@ "):
            outcomes.append(Outcome(-1))
        elif raw.startswith("@@rc "):
            outcomes[-1].rc = int(raw[5:])
        elif raw.startswith("@@err "):
            outcomes[-1].error = raw[6:]
        elif " : " in raw and outcomes:
            name, _, value = raw.partition(" : ")
            outcomes[-1].values[name.strip()] = int(value)
    assert len(outcomes) == len(texts), done.stdout[-2000:]
    return outcomes


@dataclass
class Prediction:
    started: bool
    values: dict[str, int]
    line: int | None = None
    message: str = ""


def predict(conf: LibvirtConf) -> Prediction:
    if conf.errors:
        return Prediction(False, {}, conf.errors[0].line, conf.errors[0].message)
    if conf.invalid:
        return Prediction(False, {}, None, conf.invalid[0].message)
    eff = {k: effective_uint(conf, k, DEFAULTS.get(k) or 0) for k in
           ("max_clients", "max_anonymous_clients", "max_workers", "min_workers", "prio_workers")}
    if eff["max_anonymous_clients"] > eff["max_clients"]:
        return Prediction(False, {}, None, "The overall maximum number of clients must not be less than the "
                          "number of clients waiting for authentication")
    return Prediction(True, {"nclients_max": eff["max_clients"],
                             "nclients_unauth_max": eff["max_anonymous_clients"],
                             "maxWorkers": eff["max_workers"],
                             "minWorkers": min(eff["min_workers"], eff["max_workers"]),  # virThreadPool clamps
                             "prioWorkers": eff["prio_workers"]})


_SYNTAX = re.compile(r"configuration file syntax error: (?P<path>.*?):(?P<line>\d+): (?P<msg>.*): (?P=path)$")
_TYPED = re.compile(r"internal error: (?P<path>.*?): (?P<msg>.*): (?P=path)$")


def disagreement(conf: LibvirtConf, real: Outcome) -> str | None:
    ours = predict(conf)
    if ours.started != real.started:
        return f"started: libvirtd {real.started} ({real.error}) vs ours {ours.started} ({ours.message})"
    if real.started:
        got = {k: real.values.get(k) for k in ours.values}
        return None if got == ours.values else f"values: libvirtd {got} vs ours {ours.values}"
    syntax = _SYNTAX.search(real.error)
    if syntax:
        if not conf.errors:
            return f"libvirtd saw a syntax error ({real.error}), we did not ({ours.message})"
        if int(syntax["line"]) != ours.line or not ours.message.startswith(syntax["msg"]):
            return (f"syntax error: libvirtd line {syntax['line']} {syntax['msg']!r} "
                    f"vs ours {ours.line} {ours.message!r}")
        return None
    if conf.errors:
        return f"we saw a syntax error ({ours.message}), libvirtd refused for another reason ({real.error})"
    typed = _TYPED.search(real.error)
    if typed and not ours.message.startswith(typed["msg"].replace(f"{typed['path']}: ", "")):
        return f"typed read: libvirtd {typed['msg']!r} vs ours {ours.message!r}"
    if "unsupported auth" in real.error and "unsupported auth" not in ours.message:
        return f"auth: libvirtd {real.error!r} vs ours {ours.message!r}"
    if "waiting for authentication" in real.error and "waiting for authentication" not in ours.message:
        return f"virNetServerNew: libvirtd {real.error!r} vs ours {ours.message!r}"
    return None


def test_generated_configs_agree_with_libvirtd(libvirtd_available: None, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    texts = [random_conf(rng) for _ in range(CASES)]
    started = time.monotonic()
    outcomes = run_libvirtd(tmp_path, texts)
    elapsed = time.monotonic() - started
    problems = []
    for i, (text, real) in enumerate(zip(texts, outcomes)):
        why = disagreement(parse_libvirt_conf(text, str(tmp_path / "cases" / f"{i:05d}" / "libvirtd.conf")), real)
        if why:
            problems.append(f"case {i}: {why}\n{text!r}")
    accepted = sum(o.started for o in outcomes)
    syntax = sum("syntax error" in o.error for o in outcomes)
    print(f"libvirtd differential: {CASES} files, {accepted} accepted, {CASES - accepted} refused "
          f"({syntax} for syntax, {CASES - accepted - syntax} by a typed read or a limit check), "
          f"{len(problems)} disagreements, {elapsed:.1f}s")
    assert 0 < accepted < CASES  # both sides of the decision were exercised
    assert not problems, "\n".join(problems[:10])


def test_the_differential_sees_a_wrong_prediction(libvirtd_available: None, tmp_path: Path) -> None:
    """The harness can fail: the Augeas-era reading (last occurrence, strings as numbers) disagrees."""
    text = "max_clients = 50\nmax_clients = 30\nmax_workers = \"9\"\n"
    real = run_libvirtd(tmp_path, [text])[0]
    assert not real.started and "expected an unsigned integer for 'max_workers'" in real.error
    conf = parse_libvirt_conf(text, str(tmp_path / "cases" / "00000" / "libvirtd.conf"))
    assert disagreement(conf, real) is None
    conf.invalid.clear()
    assert disagreement(conf, real) is not None
