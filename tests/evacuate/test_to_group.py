"""Issue 11 item 1, `--to-group GROUP -i INVENTORY`: the destinations of `preflight evacuate` from an
Ansible inventory group (read as `preflight fleet` reads it), on the example image roots
(preflight_root + preflight_libvirt=test:///FILE.xml). The same hosts given by --to give the same plan."""

from __future__ import annotations

import json
from pathlib import Path

from .test_cli_evacuate import GUEST, preflight, roots

INI = """\
[kvm]
host1 preflight_root=ex/host1 preflight_libvirt=test://ex/host1.xml
host2 preflight_root=ex/host2 preflight_libvirt=test://ex/host2.xml
host3 preflight_root=ex/host3 preflight_libvirt=test://ex/host3.xml

[spare]
host3
"""
YAML = """\
all:
  children:
    kvm:
      hosts:
        host1: {preflight_root: ex/host1, preflight_libvirt: "test://ex/host1.xml"}
        host2: {preflight_root: ex/host2, preflight_libvirt: "test://ex/host2.xml"}
        host3: {preflight_root: ex/host3, preflight_libvirt: "test://ex/host3.xml"}
"""


def inventory(tmp: Path, names_known: bool = True, text: str = INI, name: str = "hosts.ini") -> Path:
    roots(tmp, names_known)
    path = tmp / name
    path.write_text(text)
    return path


def to_group(inv: Path, pattern: str, source: str = "host1", *more: str, fmt: str = "json") -> tuple[int, dict | str]:
    out = preflight("evacuate", source, "--to-group", pattern, "-i", str(inv), *more, "--format", fmt)
    assert out.returncode in (0, 1, 3), out.stdout + out.stderr
    return out.returncode, json.loads(out.stdout) if fmt == "json" else out.stdout


def by_to(tmp: Path, *dests: str) -> dict:
    ex = tmp / "ex"
    args = ["evacuate", str(ex / "host1"), "--source-libvirt", f"test://{ex / 'host1.xml'}"]
    for d in dests:
        args += ["--to", str(ex / d), "--dest-libvirt", f"test://{ex / d}.xml"]
    out = preflight(*args, "--format", "json")
    assert out.returncode in (0, 1, 3), out.stderr
    data: dict = json.loads(out.stdout)
    return data


def test_group_members_but_the_source_are_the_destinations_and_the_plan_is_the_one_of_to(tmp_path: Path) -> None:
    inv = inventory(tmp_path)
    code, data = to_group(inv, "kvm")
    assert isinstance(data, dict)
    assert code == 0 and data["verdict"] == "ready", data["unplaced"]
    assert [d["inventory_host"] for d in data["destinations"]] == ["host2", "host3"]  # host1 (the source) left out
    assert [d["name"] for d in data["destinations"]] == ["dest1", "dest2"]
    assert [d["dest_uri"] for d in data["destinations"]] == ["qemu+ssh://host2/system", "qemu+ssh://host3/system"]
    assert data["source"]["running_guests"] == [GUEST]
    same = by_to(tmp_path, "host2", "host3")
    assert same["exit_code"] == 0 and data["placement"] == same["placement"]
    moves = [(m["guest"], m["dest"]) for w in data["waves"] for m in w["migrations"]]
    assert moves == [(m["guest"], m["dest"]) for w in same["waves"] for m in w["migrations"]]
    (move,) = [m for w in data["waves"] for m in w["migrations"]]
    assert move["argv"][-1] == data["destinations"][int(move["dest"][4:]) - 1]["dest_uri"]


def test_yaml_inventory_and_a_pattern(tmp_path: Path) -> None:
    inv = inventory(tmp_path, text=YAML, name="hosts.yml")
    code, data = to_group(inv, "kvm:!host2")
    assert isinstance(data, dict)
    assert code == 0 and [d["inventory_host"] for d in data["destinations"]] == ["host3"]
    assert data["placement"] == {GUEST: "dest1"}


def test_source_given_as_a_spec_is_left_out_of_the_group(tmp_path: Path) -> None:
    inv = inventory(tmp_path)
    ex = tmp_path / "ex"
    code, data = to_group(inv, "kvm", str(ex / "host1"), "--source-libvirt", f"test://{ex / 'host1.xml'}")
    assert isinstance(data, dict)
    assert code == 0 and [d["inventory_host"] for d in data["destinations"]] == ["host2", "host3"]


def test_to_and_to_group_together(tmp_path: Path) -> None:
    inv = inventory(tmp_path)
    ex = tmp_path / "ex"
    code, data = to_group(inv, "spare", "host1", "--to", str(ex / "host2"),
                          "--dest-libvirt", f"test://{ex / 'host2.xml'}")
    assert isinstance(data, dict)
    assert code == 0 and [(d["name"], d["inventory_host"]) for d in data["destinations"]] == [
        ("dest1", None), ("dest2", "host3")]


def test_not_ready_group_names_each_inventory_host_and_exits_1(tmp_path: Path) -> None:
    inv = inventory(tmp_path, names_known=False)  # host1 cannot resolve host2/host3: NET001 on both
    code, text = to_group(inv, "kvm", fmt="text")
    assert isinstance(text, str)
    assert code == 1 and "NOT READY" in text.splitlines()[0]
    assert "dest1 (host2: " in text and "dest2 (host3: " in text and "NET001" in text


def test_usage_errors_exit_2_and_name_the_inventory_line(tmp_path: Path) -> None:
    inv = inventory(tmp_path)
    bad = tmp_path / "bad.ini"
    bad.write_text("[kvm]\nhost2 ansible_host=-oProxyCommand=touch_x\n")
    cases = [
        (["evacuate", "host1", "--to-group", "kvm"], "go together"),  # no -i
        (["evacuate", "host1", "-i", str(inv)], "go together"),
        (["evacuate", "host1", "--to-group", "nosuch", "-i", str(inv)], "matches no host"),
        (["evacuate", "local", "--to-group", "kvm", "-i", str(bad)], "bad.ini:2"),
        (["evacuate", "host3", "--to-group", "spare", "-i", str(inv)], "left out"),
        (["evacuate", "host1", "--to-group", "kvm", "-i", str(tmp_path / "missing.ini")], "missing.ini"),
        (["evacuate", "host1", "--to-group", "kvm[0]", "-i", str(inv)], "subscripts"),
        (["evacuate", "host1", "--to-group", "spare", "-i", str(inv), "--to", "ssh://host3"],
         "same destination"),
    ]
    for args, words in cases:
        out = preflight(*args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert out.stderr.startswith("preflight: error:") and words in out.stderr, (args, out.stderr)
    assert not (tmp_path / "touch_x").exists()
