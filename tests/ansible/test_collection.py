"""Issue 11 item 3 without the lab: the kvmops.migration_preflight collection run by the real
ansible-core (ansible-playbook, ansible-doc) on this machine.

- the modules' DOCUMENTATION/EXAMPLES/RETURN parse as YAML, ansible-doc shows them, and the
  documented options are exactly the action plugins' argument specs;
- preflight_gather over ansible_connection=local runs preflight's script and returns a snapshot
  with every key the same run through preflight's own LocalAccess gives;
- preflight_check on snapshots saved by `preflight check --save-facts` fails the play with the
  same rules as `preflight check`; on a READY pair it passes and returns the `virsh migrate` lines;
- the controller-side API (preflight.gather.external): hostile names stay data on the command line,
  a `virsh migrate` line quotes and escapes a hostile guest name, libvirt not gathered is UNKNOWN.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from preflight.access.local import LocalAccess
from preflight.access.spec import HostSpec
from preflight.gather import external
from preflight.gather.script import expected_keys, run_gather
from preflight.model.facts import Availability, HostSnapshot
from preflight.model.plan import MigrationPlan
from tests.rule_checks.factory import baseline

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "ansible" / "collections"
COLLECTION = COLLECTIONS / "ansible_collections" / "kvmops" / "migration_preflight"
BIN = Path(sys.executable).parent
FQCN = "kvmops.migration_preflight."
DEST = "qemu+ssh://host2.example.com/system"


def ansible_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_HOME=str(tmp / "ansible-home"),
               ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"), ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_CALLBACKS_ENABLED="tree", ANSIBLE_CALLBACK_TREE_DIR=str(tmp / "tree"),
               ANSIBLE_DEPRECATION_WARNINGS="0", PATH=f"{BIN}:{os.environ.get('PATH', '')}")
    return env


def playbook(tmp: Path, tasks: list[dict], extra: dict | None = None) -> tuple[int, str, dict]:
    """One play on `me` (ansible_connection=local): rc, output, the last task's result (tree callback)."""
    (tmp / "inv.ini").write_text("me ansible_connection=local\n")
    (tmp / "play.yml").write_text(yaml.safe_dump([{"hosts": "me", "gather_facts": False, "tasks": tasks}]))
    argv = [str(BIN / "ansible-playbook"), "-i", str(tmp / "inv.ini"), str(tmp / "play.yml")]
    if extra:
        argv += ["-e", json.dumps(extra)]
    out = subprocess.run(argv, capture_output=True, text=True, env=ansible_env(tmp), timeout=120, check=False)
    last = json.loads((tmp / "tree" / "me").read_text())
    return out.returncode, out.stdout + out.stderr, last


# --- docs ----------------------------------------------------------------------------------------

def _docs(module: str) -> dict[str, object]:
    tree = ast.parse((COLLECTION / "plugins" / "modules" / f"{module}.py").read_text())
    found = {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
             for t in node.targets if isinstance(t, ast.Name) and isinstance(node.value, ast.Constant)}
    return {k: yaml.safe_load(found[k]) for k in ("DOCUMENTATION", "EXAMPLES", "RETURN")}


def _argspec(module: str) -> dict[str, dict]:
    path = COLLECTION / "plugins" / "action" / f"{module}.py"
    spec = importlib.util.spec_from_file_location(f"_action_{module}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.ARGS  # type: ignore[no-any-return]


@pytest.mark.parametrize("module", ["preflight_gather", "preflight_check"])
def test_docs_parse_and_match_the_action_argspec(module: str, tmp_path: Path) -> None:
    docs = _docs(module)
    assert docs["DOCUMENTATION"]["module"] == module  # type: ignore[index]
    assert all(task.get(FQCN + module) or any(k.startswith(FQCN) for k in task)
               for task in docs["EXAMPLES"])  # type: ignore[union-attr]
    out = subprocess.run([str(BIN / "ansible-doc"), "-j", "-t", "module", FQCN + module], capture_output=True,
                         text=True, env=ansible_env(tmp_path), timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)[FQCN + module]["doc"]
    spec = _argspec(module)
    assert set(doc["options"]) == set(spec)  # every option documented, none invented
    for name, opt in spec.items():
        assert doc["options"][name]["type"] == opt["type"], name
        assert doc["options"][name].get("default") == opt.get("default"), name
        assert doc["options"][name].get("choices") == opt.get("choices"), name


def test_the_collection_declares_its_ansible_and_name() -> None:
    galaxy = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())
    assert (galaxy["namespace"], galaxy["name"]) == ("kvmops", "migration_preflight")
    assert yaml.safe_load((COLLECTION / "meta" / "runtime.yml").read_text())["requires_ansible"].startswith(">=")


def test_drain_playbook_parses() -> None:
    out = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,",
                          str(REPO / "ansible" / "playbooks" / "drain_host.yml"), "-e", "drain_source=localhost",
                          "-e", '{"drain_destinations": ["localhost"]}'],
                         capture_output=True, text=True, env=ansible_env(Path("/tmp")), timeout=60, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


# --- gather over Ansible's local connection -------------------------------------------------------

def test_gather_through_ansible_local_connection_is_preflights_own_run(tmp_path: Path) -> None:
    _, d = baseline()
    peer = d.build()
    assert peer.libvirt is not None
    peer.libvirt.hostname = "h$(touch pwned)"  # a hostile name the peer reveals is a name, never shell
    rc, text, last = playbook(tmp_path, [
        {"name": "gather", FQCN + "preflight_gather": {
            "role": "source", "libvirt": False, "plan": {"guests": ["g1"], "dest_uri": DEST, "live": True}}},
        {"name": "resolve the names the peer revealed", FQCN + "preflight_gather": {
            "role": "source", "update": True, "plan": {"guests": ["g1"], "dest_uri": DEST}, "peer": "{{ peer }}"}},
    ], extra={"peer": json.loads(peer.to_json())})
    assert rc == 0, text
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()
    snap = HostSnapshot.from_dict(last["ansible_facts"]["preflight_snapshot"])
    assert (snap.spec, snap.mode.value, snap.role) == ("local", "local", "source")
    assert snap.libvirt is not None and snap.libvirt.status is Availability.NOT_AVAILABLE  # UNKNOWN live
    assert snap.libvirt.error == external.NOT_ASKED
    ours = run_gather(LocalAccess(), ["host2.example.com"], [], command_timeout=10)
    assert set(ours) <= set(snap.probes)  # every key preflight's own run has (the script ran to its end)
    assert set(expected_keys(["host2.example.com"], [])) <= set(snap.probes)
    assert "cmd:getent:h$(touch pwned)" in snap.probes  # the names-only follow-up resolved the peer's name
    stopped = [k for k, p in snap.probes.items() if p.error and "before the end" in p.error]
    assert stopped == []


# --- judge on saved snapshots ---------------------------------------------------------------------

def test_check_on_saved_example_facts_fails_with_the_clis_rules(tmp_path: Path) -> None:
    facts = tmp_path / "facts"
    ex = REPO / "examples"
    cli = subprocess.run([str(BIN / "preflight"), "check", "--live", "guest1-rhel6-64", DEST, "--concurrency", "12",
                          "--source", str(ex / "host1"), "--source-libvirt", f"test://{ex / 'host1.xml'}",
                          "--dest", str(ex / "host2"), "--dest-libvirt", f"test://{ex / 'host2.xml'}",
                          "--format", "json", "--save-facts", str(facts), "--no-config"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert cli.returncode == 1, cli.stderr
    theirs = json.loads(cli.stdout)
    failing = sorted({f["rule"] for f in theirs["findings"] if f["status"] == "fail" and f["severity"] == "error"})
    rc, text, last = playbook(tmp_path, [{"name": "judge", FQCN + "preflight_check": {
        "source_facts": str(facts / "source.json"), "dest_facts": str(facts / "destination.json"),
        "plan": {"guests": ["guest1-rhel6-64"], "dest_uri": DEST, "live": True, "concurrency": 12}}}])
    assert rc != 0, text
    assert last["verdict"] == "not-ready"
    assert sorted(last["failing_rules"]) == failing and failing
    for rule in failing:
        assert f"\n{rule} FAIL [" in last["msg"], rule
    assert last["migrate_commands"] == []


def _saved_pair(tmp: Path, src: HostSnapshot, dst: HostSnapshot) -> tuple[str, str]:
    (tmp / "src.json").write_text(src.to_json())
    (tmp / "dst.json").write_text(dst.to_json())
    return str(tmp / "src.json"), str(tmp / "dst.json")


def test_check_passes_on_a_ready_pair_and_returns_the_migrate_command(tmp_path: Path) -> None:
    s, d = baseline()
    src, dst = _saved_pair(tmp_path, s.build(), d.build())
    rc, text, last = playbook(tmp_path, [{"name": "judge", FQCN + "preflight_check": {
        "source_facts": src, "dest_facts": dst, "plan": {"all_running": True, "dest_uri": DEST, "live": True}}}])
    assert rc == 0, text
    assert last["verdict"] == "ready" and last["failing_rules"] == [] and last["unknown_rules"] == []
    assert last["migrate_commands"] == [f"virsh migrate --live -- g1 {DEST}"]


def test_check_never_passes_when_libvirt_was_not_gathered(tmp_path: Path) -> None:
    s, d = baseline()
    src_snap = s.build()
    src_snap.libvirt = external.host_libvirt(HostSpec(kind="local"), enabled=False)
    src, dst = _saved_pair(tmp_path, src_snap, d.build())
    rc, text, last = playbook(tmp_path, [{"name": "judge", FQCN + "preflight_check": {
        "source_facts": src, "dest_facts": dst, "plan": {"guests": ["g1"], "dest_uri": DEST, "live": True}}}])
    assert rc != 0, text
    # every rule that reads the guests is UNKNOWN (DMN001 reads the silence as a daemon not answering)
    assert last["verdict"] != "ready" and {"GST001", "STO001"} <= set(last["unknown_rules"]), last["msg"]
    assert "GST001 UNKNOWN [source]: guests on the source: libvirt qemu:///system: " + external.NOT_ASKED in last["msg"]


# --- the controller-side API ----------------------------------------------------------------------

def test_command_line_keeps_every_word_data_and_the_script_off_the_terminal(tmp_path: Path) -> None:
    calls: list[str] = []

    def run(command: str, script: bytes) -> tuple[int, str, str]:
        calls.append(command)
        out = subprocess.run(["sh", "-c", command], input=script, capture_output=True, cwd=tmp_path, timeout=60,
                             check=False)
        return out.returncode, out.stdout.decode(errors="surrogateescape"), out.stderr.decode(errors="replace")

    hostile = ["$(touch pwned)", "a'b;touch pwned2", "-n"]
    found = run_gather(external.CommandLineAccess(run), hostile, ["/nonexistent/`touch pwned3`"], command_timeout=5)
    assert not list(tmp_path.iterdir())
    assert all("cmd:getent:" + n in found for n in hostile)
    assert shlex.split(calls[0])[:4] == ["sh", "-c", external.READ_THEN_RUN, "preflight-gather"]
    assert len(calls[0]) < 4096  # the script went on stdin, not on the command line


def test_migrate_commands_quote_and_escape_a_hostile_guest_name() -> None:
    s, _ = baseline()
    snap = s.build()
    assert snap.libvirt is not None
    snap.libvirt.guests[0] = dataclasses.replace(snap.libvirt.guests[0], name="g1;rm -rf /\x1b[32mREADY")
    plan = MigrationPlan(guests=[], dest_uri=DEST, live=True, p2p=True, all_running=True)
    [line] = external.migrate_commands(plan, snap)
    assert "\x1b" not in line and "\\x1b" in line
    assert shlex.split(line)[-2] == "g1;rm -rf /\\x1b[32mREADY"
    assert shlex.split(line)[:5] == ["virsh", "migrate", "--live", "--p2p", "--"]


@pytest.mark.parametrize("plan, why", [
    ({"guests": ["g1"]}, "dest_uri"),
    ({"dest_uri": DEST}, "all_running"),
    ({"dest_uri": DEST, "guests": ["g1"], "live": "yes"}, "plan.live"),
    ({"dest_uri": DEST, "guests": ["g1"], "concurrency": 0}, "concurrency"),
    ({"dest_uri": DEST, "guests": ["g1"], "bogus": 1}, "bogus"),
    ({"dest_uri": "qemu+ssh://-oProxyCommand=x/system", "guests": ["g1"]}, "ProxyCommand"),
])
def test_plan_errors_say_what_is_wrong(plan: dict, why: str) -> None:
    with pytest.raises(ValueError, match=why.replace("+", "\\+")):
        external.plan_from(plan)


def test_a_hostile_inventory_address_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """ansible_host is validated by preflight.access.spec before libvirt's URI is built or the script is
    sent: an ssh option in its place fails the task with the reason, and nothing runs."""
    (tmp_path / "inv.ini").write_text(f"bad ansible_connection=ssh ansible_host=-oProxyCommand=touch{chr(36)}{{IFS}}"
                                      f"{tmp_path}/pwned ansible_user=root\n")
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{"hosts": "bad", "gather_facts": False, "tasks": [
        {FQCN + "preflight_gather": {"role": "source", "plan": {"guests": ["g1"], "dest_uri": DEST}}}]}]))
    out = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(tmp_path / "inv.ini"), str(tmp_path / "play.yml")],
                         capture_output=True, text=True, env=ansible_env(tmp_path), timeout=60, check=False)
    assert out.returncode != 0
    last = json.loads((tmp_path / "tree" / "bad").read_text())
    assert "inventory address of bad" in last["msg"] and "not a host name" in last["msg"], last
    assert not (tmp_path / "pwned").exists()
