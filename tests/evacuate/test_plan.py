"""Issue 11 item 1 (evacuation), offline: judgement per (guest, destination), memory placement, waves
from the destinations' limits, determinism, hostile guest names. Fact fixtures, no host."""

from __future__ import annotations

import json
import shlex

from preflight.evacuate import render
from preflight.evacuate.plan import Evacuation
from preflight.model import probes as P
from preflight.view.memory import overhead
from tests.evacuate.fleetfacts import GIB, MIB, bridge, evacuate, hosts, vm


def need(mib: int) -> int:
    return mib * MIB + overhead(mib * MIB)


def load(ev: Evacuation) -> dict[str, list[str]]:
    """destination -> its guests, from the plan's waves (what a person would run)."""
    out: dict[str, list[str]] = {}
    for w in ev.waves:
        for g, d in w.moves:
            out.setdefault(d, []).append(g)
    return out


def test_memory_packing_over_two_destinations_respects_each_ones_room() -> None:
    guests = [("a", 2048), ("b", 3072), ("c", 4096), ("d", 1024)]
    src, dests = hosts(guests, [6 * GIB, 6 * GIB])
    ev = evacuate(src, dests)
    assert ev.exit_code == 0 and not ev.unplaced
    per = load(ev)
    assert sorted(g for gs in per.values() for g in gs) == ["a", "b", "c", "d"]
    assert set(per) == {"dest1", "dest2"}  # one host alone could not take 10 GiB
    mem = dict(guests)
    for d, gs in per.items():
        used = sum(need(mem[g]) for g in gs)
        assert used <= 6 * GIB, (d, gs)
        assert ev.placed.left[d] == 6 * GIB - used  # each guest counted once
    # every guest alone would fit on either: the spread is the packing, not the rules
    assert all(ev.judged[d].takes(g) for d in ("dest1", "dest2") for g in mem)


def test_a_guest_too_big_for_any_destination_is_named_with_gst009() -> None:
    src, dests = hosts([("small", 512), ("huge", 20 * 1024)], [6 * GIB, 4 * GIB])
    ev = evacuate(src, dests)
    assert ev.placed.where == {"small": "dest1"}
    reasons = ev.unplaced["huge"]
    assert [r.dest for r in reasons] == ["dest1", "dest2"]
    assert all("GST009" in r.rules and r.definite for r in reasons)
    assert ev.exit_code == 1 and ev.verdict == "not-ready"
    text = render.to_text(ev)
    assert "huge" in text.split("fit nowhere:")[1] and "GST009" in text


def test_no_room_left_after_packing_is_a_gst009_reason() -> None:
    # each fits alone (GST009 passes for each), not both: the second is refused by the packing
    src, dests = hosts([("a", 3072), ("b", 3000)], [4 * GIB, 4 * GIB])
    dests = dests[:1]
    ev = evacuate(src, dests)
    assert ev.placed.where == {"a": "dest1"}
    (reason,) = ev.unplaced["b"]
    assert reason.rules == ["GST009"] and "left after the guests placed there" in reason.messages[0]


def test_destination_excluded_by_a_host_level_failure() -> None:
    src, (h2, h3) = hosts([("a", 512), ("b", 512)])
    h2.libvirt_ok = False
    h2.cmds[P.DAEMONS] = "libvirtd\tstopped\tpidfile\nvirtqemud\tstopped\tpidof\n"
    ev = evacuate(src, [h2, h3])
    assert ev.judged["dest1"].excluded and "DMN001" in {f.rule for f in ev.judged["dest1"].host_blocking}
    assert set(ev.placed.where.values()) == {"dest2"} and ev.exit_code == 0
    assert "dest1 (ssh://root@host2.example.com): EXCLUDED" in render.to_text(ev)


def test_guest_refused_for_its_own_reason_net004_goes_elsewhere_or_nowhere() -> None:
    src, (h2, h3) = hosts([("plain", 512)])
    src.guests.append(vm("bridged", 512, 9, interfaces=bridge("br9")))  # type: ignore[arg-type]
    src.cmds[P.NETDEVS] = "br9\neth0\nlo\n"
    h3.cmds[P.NETDEVS] = "br9\neth0\nlo\n"
    ev = evacuate(src, [h2, h3])
    assert ev.placed.where["bridged"] == "dest2" and not ev.judged["dest1"].takes("bridged")
    assert "NET004" in {f.rule for f in ev.judged["dest1"].guest_blocking["bridged"]}
    assert ev.judged["dest1"].takes("plain")
    ev = evacuate(src, [h2])  # only host2: nowhere to go
    assert [r.rules for r in ev.unplaced["bridged"]] == [["NET004"]] and ev.exit_code == 1


def test_unknown_on_a_destination_is_never_placed_there() -> None:
    src, (h2, h3) = hosts([("a", 512)])
    h2.memory = None  # the destination's memory not read: GST009 UNKNOWN
    ev = evacuate(src, [h2, h3])
    assert ev.placed.where == {"a": "dest2"}
    ev = evacuate(src, [h2])
    (reason,) = ev.unplaced["a"]
    assert not reason.definite and ev.exit_code == 3  # nothing refused it: it could not be seen


def test_waves_follow_max_startups_of_each_destination() -> None:
    src, (h2, h3) = hosts([(f"g{i}", 256) for i in range(5)])
    h2.cmds[P.SSHD_T] = "port 22\nmaxstartups 2:30:10\npersourcemaxstartups none\nmaxsessions 10\n"
    ev = evacuate(src, [h2])
    assert ev.caps["dest1"].value == 2 and ev.caps["dest1"].why.startswith("SSH001")
    assert [len(w.moves) for w in ev.waves] == [2, 2, 1]
    ev = evacuate(src, [h2, h3])  # host3 keeps the default 10:30:100
    for w in ev.waves:
        assert sum(1 for _, d in w.moves if d == "dest1") <= 2


def test_waves_follow_max_clients() -> None:
    src, (h2, _) = hosts([(f"g{i}", 256) for i in range(6)])
    h2.files[P.LIBVIRTD_CONF] = "max_clients = 4\nmax_workers = 4\nmax_anonymous_clients = 4\n"
    ev = evacuate(src, [h2])
    cap = ev.caps["dest1"]
    assert 1 <= cap.value < 6 and cap.why.startswith("LIM00"), cap
    assert all(len(w.moves) <= cap.value for w in ev.waves) and len(ev.waves) > 1
    assert sum(len(w.moves) for w in ev.waves) == 6


def test_concurrency_option_is_an_upper_bound_per_destination() -> None:
    src, (h2, _) = hosts([(f"g{i}", 256) for i in range(3)])
    ev = evacuate(src, [h2], concurrency=1)
    assert [len(w.moves) for w in ev.waves] == [1, 1, 1]


def test_same_input_same_plan() -> None:
    guests = [("a", 1024), ("b", 1024), ("c", 2048), ("d", 512), ("e", 1024)]
    first = render.to_json(evacuate(*hosts(guests, [4 * GIB, 4 * GIB])))
    again = render.to_json(evacuate(*hosts(guests, [4 * GIB, 4 * GIB])))
    shuffled = render.to_json(evacuate(*hosts(list(reversed(guests)), [4 * GIB, 4 * GIB])))
    assert first == again
    # libvirt's listing order changes only the listing, not the placement or the waves
    a, b = json.loads(first), json.loads(shuffled)
    assert a["placement"] == b["placement"] and a["waves"] == b["waves"]


def test_hostile_guest_names_are_quoted_or_replaced_by_the_uuid() -> None:
    names = ["a b;rm -rf /", "$(reboot)", "-x", "42", "\x1b[32mREADY", "it's"]
    src, (h2, _) = hosts([])
    src.guests = [vm(n, 128, i) for i, n in enumerate(names)]  # type: ignore[misc]
    ev = evacuate(src, [h2])
    assert set(ev.placed.where) == set(names)
    text = render.to_text(ev)
    assert "\x1b" not in text
    data = render.to_dict(ev)
    by_uuid = {g.uuid: g.name for g in src.guests}
    seen = set()
    for w in data["waves"]:
        for m in w["migrations"]:
            argv = shlex.split(m["command"])
            assert argv == m["argv"] and argv[-1] == "qemu+ssh://root@host2.example.com/system"
            word = argv[-2]
            seen.add(by_uuid.get(word, word))
            if word in by_uuid:
                assert m["uuid_because"]
            assert m["command"] + " &" in text
    assert seen == set(names)
    words = {m["guest"]: shlex.split(m["command"])[-2] for w in data["waves"] for m in w["migrations"]}
    assert words["a b;rm -rf /"] == "a b;rm -rf /" and words["it's"] == "it's"  # quoted, not replaced
    assert words["-x"] != "-x" and words["42"] != "42"


def test_flags_pass_through_and_not_running_guests_stay() -> None:
    from preflight.evacuate.judge import Flags

    src, (h2, _) = hosts([("a", 256)])
    src.guests.append(vm("off", 256, 7, state="shutoff"))  # type: ignore[arg-type]
    ev = evacuate(src, [h2], Flags(p2p=True, tunnelled=True))
    argv, _ = render.command(ev, "a", "dest1")
    assert argv[4:7] == ["--live", "--p2p", "--tunnelled"]
    assert ev.guests == ["a"] and ev.not_running == [("off", "shutoff")]


def test_source_not_inspected_is_exit_3() -> None:
    src, (h2, _) = hosts([("a", 256)])
    src.libvirt_ok = False
    ev = evacuate(src, [h2])
    assert ev.exit_code == 3 and ev.source_problem and not ev.waves


def test_nothing_running_is_ready_with_no_wave() -> None:
    src, (h2, _) = hosts([])
    src.guests = [vm("off", 256, 1, state="shutoff")]  # type: ignore[list-item]
    ev = evacuate(src, [h2])
    assert ev.exit_code == 0 and ev.waves == [] and ev.not_running == [("off", "shutoff")]
    assert "not running, left in place: off" in render.to_text(ev)


def test_text_plan_is_a_shell_script_with_waves_in_order() -> None:
    import subprocess

    src, (h2, _) = hosts([(f"g{i}", 256) for i in range(3)])
    h2.cmds[P.SSHD_T] = "port 22\nmaxstartups 1:30:10\npersourcemaxstartups none\nmaxsessions 10\n"
    text = render.to_text(evacuate(src, [h2]))
    assert subprocess.run(["sh", "-n"], input=text, text=True, timeout=10).returncode == 0
    body = [ln for ln in text.splitlines() if not ln.startswith("#") and ln]
    assert [ln if ln == "wait" else "<cmd>" for ln in body] == ["<cmd>", "wait"] * 3  # MaxStartups 1: one at a time


def test_a_destination_not_inspected_is_excluded_and_does_not_decide() -> None:
    src, (h2, h3) = hosts([("plain", 256)])
    src.guests.append(vm("bridged", 256, 9, interfaces=bridge("br9")))  # type: ignore[arg-type]
    snap3 = h3.build()
    snap3.reachable, snap3.unreachable_reason = False, "ssh: connect to host host3 port 22: Connection refused"
    from preflight.evacuate.judge import Flags
    from preflight.evacuate.plan import Dest, build
    from preflight.rules import ALL_RULES

    ev = build("local", src.build(), [Dest("dest1", "ssh://root@host2.example.com",
                                           "qemu+ssh://root@host2.example.com/system", h2.build()),
                                      Dest("dest2", "ssh://root@host3.example.com",
                                           "qemu+ssh://root@host3.example.com/system", snap3)], Flags(), ALL_RULES)
    assert ev.placed.where == {"plain": "dest1"} and ev.judged["dest2"].excluded
    by_dest = {r.dest: r for r in ev.unplaced["bridged"]}
    assert by_dest["dest1"].rules == ["NET004"] and not by_dest["dest2"].inspected
    assert "Connection refused" in by_dest["dest2"].messages[0]
    assert ev.exit_code == 1  # refused by every destination that could be inspected
    assert "NOT INSPECTED" in render.to_text(ev)
    snap2 = h2.build()
    snap2.reachable, snap2.unreachable_reason = False, "unreachable"
    ev = build("local", src.build(), [Dest("dest1", "ssh://h2", "qemu+ssh://h2/system", snap2)], Flags(), ALL_RULES)
    assert ev.exit_code == 3 and not ev.placed.where  # no destination could be inspected
