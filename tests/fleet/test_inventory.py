"""Issue 11 item 2: inventories read as Ansible reads them (INI and YAML: groups, children, vars
precedence, ranges, host:port), checked against ansible-inventory itself; hostile values refused
with the file:line that set them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from preflight.access import AccessOptions
from preflight.fleet.hosts import build
from preflight.fleet.inventory import InventoryError, load
from preflight.fleet.ranges import RangeError, expand

from .conftest import ansible_inventory

INI = """\
# hosts before any section are ungrouped
solo ansible_host=10.0.0.9
lone:2201

[kvm:children]
rack1
rack2

[rack1]
kvm[01:03].example.com ansible_user=root
h9:2222 ansible_host="10.0.0.1"
db-[a:c] ansible_port=22

[rack2]
other ansible_port=22 ansible_become=yes
h9

[rack2:children]
edge

[edge]
e[1:5:2]

[kvm:vars]
ansible_user=admin
ansible_port=2200
level=kvm

[rack1:vars]
level=rack1

[rack2:vars]
level=rack2

[edge:vars]
level=edge

[all:vars]
ansible_user=nobody
level=all
only_all=1
"""

YAML = """\
all:
  vars:
    ansible_user: nobody
    level: all
    only_all: 1
  hosts:
    solo:
      ansible_host: 10.0.0.9
    "lone:2201":
  children:
    kvm:
      vars:
        ansible_user: admin
        ansible_port: 2200
        level: kvm
      children:
        rack1:
          vars: {level: rack1}
          hosts:
            kvm[01:03].example.com:
              ansible_user: root
            "h9:2222":
              ansible_host: 10.0.0.1
            db-[a:c]: {ansible_port: 22}
        rack2:
          vars: {level: rack2}
          hosts:
            other: {ansible_port: 22, ansible_become: "yes"}
            h9:
          children:
            edge:
              vars: {level: edge}
              hosts:
                e[1:5:2]:
"""


@pytest.fixture(params=["ini", "yml"])
def inventory(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / f"hosts.{request.param}"
    path.write_text(INI if request.param == "ini" else YAML)
    return path


EDGE = """\
[all]
top1 ansible_host=10.9.9.9 # a comment after the vars
[ungrouped]
loose1 v='a b c' n=0x10 t=True l="[1, 2]"
; a semicolon comment
[web]
w1 ansible_port="2222" empty= quoted="x=y"
w1 extra=again
top1

[web:vars]
spaced = value with spaces
eq=a=b

[db:children]
web
[db]
d[8:10] ansible_user=db
"""


def test_ini_edge_cases_agree_with_ansible(tmp_path: Path) -> None:
    """[all] and [ungrouped] sections, trailing and ; comments, literals (0x10, True, lists), quotes,
    empty values, a host listed twice, spaces around = in :vars, children declared before the group."""
    path = tmp_path / "edge"
    path.write_text(EDGE)
    agree_with_ansible(path, tmp_path)


def test_hosts_groups_and_vars_agree_with_ansible(inventory: Path, tmp_path: Path) -> None:
    agree_with_ansible(inventory, tmp_path)


def agree_with_ansible(inventory: Path, tmp_path: Path) -> None:
    inv = load(str(inventory))
    theirs = ansible_inventory(inventory, tmp_path)
    hostvars = theirs["_meta"]["hostvars"]
    assert sorted(inv.hosts) == sorted(hostvars)
    for host, their_vars in hostvars.items():
        for key, value in their_vars.items():
            assert inv.var(host, key).value == value, (host, key)
    for group, body in theirs.items():
        if group == "_meta":
            continue
        assert sorted(inv.groups[group].hosts) == sorted(body.get("hosts", [])), group
        assert sorted(inv.groups[group].children) == sorted(body.get("children", [])), group


def test_vars_precedence_host_child_parent_all(inventory: Path) -> None:
    inv = load(str(inventory))
    assert inv.var("kvm01.example.com", "ansible_user").scope == "host"  # host beats every group
    assert inv.var("e3", "level").value == "edge"  # child group beats its parent (rack2) and grandparent
    assert inv.var("kvm02.example.com", "level").value == "rack1"
    assert inv.var("kvm02.example.com", "ansible_port").value == 2200  # parent group beats all
    assert inv.var("solo", "level").value == "all"
    assert inv.var("e5", "only_all").value == 1
    # h9 is in rack1 and rack2 (same depth): the later name wins, as Ansible sorts groups by (depth, name)
    assert inv.var("h9", "level").value == "rack2"
    assert inv.var("h9", "ansible_port").value == 2222  # host:port is a host var


def test_ranges_expand_as_ansible() -> None:
    assert expand("kvm[01:03].example.com") == ["kvm01.example.com", "kvm02.example.com", "kvm03.example.com"]
    assert expand("db-[a:c]") == ["db-a", "db-b", "db-c"]
    assert expand("x[1:6:2]") == ["x1", "x3", "x5"]
    assert expand("r[1:2]-[a:b]") == ["r1-a", "r1-b", "r2-a", "r2-b"]
    assert expand("[:2]x") == ["0x", "1x", "2x"]
    with pytest.raises(RangeError):
        expand("k[01:100]")  # zero-padded bounds of different widths
    with pytest.raises(RangeError):
        expand("k[0:999999999]")  # a hostile range is bounded


def test_var_locations_are_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text(INI)
    inv = load(str(path))
    assert str(inv.var("kvm01.example.com", "ansible_user").where) == f"{path}:10"
    assert str(inv.var("e1", "ansible_port").where) == f"{path}:26"  # from [kvm:vars]
    ypath = tmp_path / "hosts.yaml"
    ypath.write_text(YAML)
    yinv = load(str(ypath))
    assert str(yinv.var("kvm01.example.com", "ansible_user").where) == f"{ypath}:21"


@pytest.mark.parametrize(("text", "where", "words"), [
    ("[a]\nh1\n[b:children]\nnope\n[b]\n", 4, "no [nope]"),
    ("[a:vars]\nx=1\n", 1, "[a:vars]"),
    ("[a:weird]\n", 1, "unknown type"),
    ("[a]\nh1 novalue\n", 2, "key=value"),
    ("[a]\nh1 x='unclosed\n", 2, "closing quotation"),
    ("[a:children]\nb\n[b:children]\na\n", 4, "loop"),
    ("[a]\nk[5:1]\n", 2, "begin must not be after end"),
])
def test_ini_errors_name_the_line(tmp_path: Path, text: str, where: int, words: str) -> None:
    path = tmp_path / "bad.ini"
    path.write_text(text)
    with pytest.raises(InventoryError, match=rf"bad\.ini:{where}: .*{re.escape(words)}"):
        load(str(path))


@pytest.mark.parametrize(("text", "where", "words"), [
    ("all:\n  hosts: [a, b]\n", 2, "must be a mapping"),
    ("all:\n  hots:\n    a:\n", 2, "unexpected key 'hots'"),
    ("all:\n  hosts:\n    a: {x: [1\n", 4, "not YAML"),
    ("a: &x\n  children:\n    b: *x\n", 1, ""),
])
def test_yaml_errors_name_the_line(tmp_path: Path, text: str, where: int, words: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(text)
    with pytest.raises(InventoryError, match=rf"bad\.yml:\d+: .*{words}"):
        load(str(path))


def test_yaml_alias_bomb_is_bounded(tmp_path: Path) -> None:
    lines = ["a0: &a0 {x: 1}"] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 12)]
    path = tmp_path / "bomb.yml"
    path.write_text("all:\n  vars:\n" + "".join(f"    {line}\n" for line in lines))
    with pytest.raises(InventoryError, match="YAML nodes"):
        load(str(path))


HOSTILE = [
    ("ansible_host", '"-oProxyCommand=touch {marker}"'),
    ("ansible_user", '"-oProxyCommand=touch {marker}"'),
    ("ansible_port", '"22 -oProxyCommand=touch {marker}"'),
    ("ansible_host", '"host2;touch {marker}"'),
    ("ansible_host", "'host2/system?command=/bin/sh'"),
    ("preflight_dest_name", '"-oProxyCommand=x"'),
    ("ansible_connection", "docker"),
]


@pytest.mark.parametrize(("key", "value"), HOSTILE)
def test_hostile_host_values_are_refused_with_file_line(tmp_path: Path, key: str, value: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "hosts"
    path.write_text(f"[kvm]\ngood\nevil {key}={value.format(marker=marker)}\n")
    inv = load(str(path))
    build(inv, "good", AccessOptions())
    with pytest.raises(InventoryError, match=rf"{path}:3: host 'evil': {key}"):
        build(inv, "evil", AccessOptions())


def test_hostile_group_var_is_refused_at_the_group_line(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text("all:\n  children:\n    kvm:\n      hosts:\n        a:\n      vars:\n"
                    "        ansible_host: '-oProxyCommand=x'\n")
    with pytest.raises(InventoryError, match=rf"{path}:7: host 'a': ansible_host"):
        build(load(str(path)), "a", AccessOptions())


def test_preflight_libvirt_only_a_test_driver_file(tmp_path: Path) -> None:
    root = tmp_path / "img"
    (root / "etc").mkdir(parents=True)
    (tmp_path / "m.xml").write_text("<node/>")
    path = tmp_path / "hosts"
    path.write_text("[kvm]\n"
                    "ok preflight_root=img preflight_libvirt=test://m.xml\n"
                    "bad preflight_root=img preflight_libvirt='qemu+ssh://x/system?command=/bin/sh'\n"
                    "live preflight_libvirt=test://m.xml\n")
    inv = load(str(path))
    ok = build(inv, "ok", AccessOptions())
    assert ok.spec.kind == "image" and ok.spec.root == str(root)  # relative to the inventory's directory
    assert ok.libvirt == f"test://{tmp_path}/m.xml"
    with pytest.raises(InventoryError, match=r":3: host 'bad': preflight_libvirt"):
        build(inv, "bad", AccessOptions())
    with pytest.raises(InventoryError, match=r":4: host 'live': preflight_libvirt is only read with preflight_root"):
        build(inv, "live", AccessOptions())


def test_specs_and_dest_uris(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text("[kvm]\n"
                    "kvm1.example.com ansible_host=10.0.0.1 ansible_user=root ansible_port=2222\n"
                    "me ansible_connection=local\n"
                    "'odd name' ansible_host=10.0.0.3\n"
                    "v6 ansible_host=fd00::5 preflight_dest_name=v6.example.com ansible_become=true\n")
    inv = load(str(path))
    one = build(inv, "kvm1.example.com", AccessOptions())
    assert str(one.spec) == "ssh://root@10.0.0.1:2222"
    assert one.dest_uri == "qemu+ssh://kvm1.example.com:2222/system"
    assert build(inv, "me", AccessOptions()).spec.kind == "local"
    assert build(inv, "odd name", AccessOptions()).dest_uri == "qemu+ssh://10.0.0.3/system"  # not a host name
    v6 = build(inv, "v6", AccessOptions())
    assert str(v6.spec) == "ssh://[fd00::5]" and v6.dest_uri == "qemu+ssh://v6.example.com/system"
    assert v6.options.sudo is True and one.options.sudo is False


def test_group_vars_and_host_vars_dirs_agree_with_ansible(inventory: Path, tmp_path: Path) -> None:
    """group_vars/ and host_vars/ beside the inventory, with Ansible's precedence: every group_vars file
    beats every inventory group var, group_vars/all included; host_vars beats the inventory's host vars."""
    gv, hv = inventory.parent / "group_vars", inventory.parent / "host_vars"
    (gv / "rack1").mkdir(parents=True)
    hv.mkdir()
    (gv / "all.yml").write_text("level: gv-all\nonly_gv_all: 1\nansible_port: 2299\n")
    (gv / "kvm.yaml").write_text("level: gv-kvm\nansible_user: gv-kvm-user\n")
    (gv / "rack1" / "a.yml").write_text("level: gv-rack1-a\nlist_var: [1, 2]\n")
    (gv / "rack1" / "b.yml").write_text("level: gv-rack1-b\n")
    (gv / "rack1" / ".hidden.yml").write_text("level: hidden\n")
    (hv / "h9").write_text("ansible_user: hv-user\nansible_port: 2022\n")
    (hv / "e3.json").write_text('{"level": "hv-e3"}')
    inv = load(str(inventory))
    theirs = ansible_inventory(inventory, tmp_path)["_meta"]["hostvars"]
    for host, their_vars in theirs.items():
        for key, value in their_vars.items():
            assert inv.var(host, key).value == value, (host, key, inv.var(host, key))
    assert inv.var("kvm01.example.com", "level").value == "gv-rack1-b"  # the deepest group's file, files sorted
    assert inv.var("solo", "level").value == "gv-all"  # group_vars/all beats [all:vars]
    assert inv.var("h9", "ansible_user").value == "hv-user"
    assert str(inv.var("h9", "ansible_port").where) == f"{hv / 'h9'}:2"


def test_vars_file_errors_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "kvm.yml").write_text("a: 1\nb: [unclosed\n")
    path = tmp_path / "hosts"
    path.write_text("[kvm]\nh1\n")
    with pytest.raises(InventoryError, match=r"group_vars/kvm\.yml:\d+: not YAML"):
        load(str(path))
