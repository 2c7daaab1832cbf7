"""The pytest11 plugin (preflight/pytest_plugin.py), run by pytester on copies of examples/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
URI = "qemu+ssh://host2.example.com/system"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "example"
    shutil.copytree(EXAMPLES, root, symlinks=True)
    return root


def suite(root: Path) -> str:
    """A host test suite as a user writes it: the built-in example's plan, judged through the fixture."""
    return f'''
import json, os

def test_pair(preflight_pair):
    report = preflight_pair({str(root / "host1")!r}, {str(root / "host2")!r},
                            guests=["guest1-rhel6-64"], dest_uri={URI!r}, concurrency=12,
                            source_libvirt={f"test://{root / 'host1.xml'}"!r},
                            dest_libvirt={f"test://{root / 'host2.xml'}"!r})
    failed = sorted(f.rule for f in report.blocking_failures)
    findings = sorted([f.rule, f.status.value, f.message] for f in report.findings)
    with open(os.environ["RESULT"], "w") as out:
        json.dump({{"verdict": report.verdict, "findings": findings}}, out)
    assert report.verdict == "ready", failed
'''


def run(pytester: pytest.Pytester, root: Path, result: Path, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_hosts=suite(root))
    result.unlink(missing_ok=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RESULT", str(result))
        return pytester.runpytest("-p", "no:cacheprovider", *args)


def check(example: Path, *extra: str) -> tuple[int, str]:
    """`preflight check` on the example (examples/run.sh's plan), in process."""
    from typer.testing import CliRunner

    from preflight.cli import app

    args = ["check", "--live", "guest1-rhel6-64", URI, "--concurrency", "12",
            "--source", str(example / "host1"), "--source-libvirt", f"test://{example / 'host1.xml'}",
            "--dest", str(example / "host2"), "--dest-libvirt", f"test://{example / 'host2.xml'}", *extra]
    out = CliRunner().invoke(app, args)
    return out.exit_code, out.stdout


def test_pair_fixture_judges_the_example_as_check_does(pytester: pytest.Pytester, example: Path,
                                                       tmp_path: Path) -> None:
    result = tmp_path / "result.json"
    out = run(pytester, example, result)
    out.assert_outcomes(failed=1)  # the example is NOT READY: the user's assertion fails
    seen = json.loads(result.read_text())
    code, text = check(example, "--format", "json")
    cli = json.loads(text)
    assert code == 1 and seen["verdict"] == cli["verdict"] != "ready"
    assert seen["findings"] == sorted([f["rule"], f["status"], f["message"]] for f in cli["findings"])
    assert "AssertionError" in out.stdout.str()


def test_facts_dir_reuses_saved_snapshots(pytester: pytest.Pytester, example: Path, tmp_path: Path) -> None:
    facts, result = tmp_path / "facts", tmp_path / "result.json"
    run(pytester, example, result, "--preflight-facts", str(facts)).assert_outcomes(failed=1)
    first = json.loads(result.read_text())
    saved = sorted(p.name for p in facts.iterdir())
    assert len(saved) == 2 and all(name.endswith(".json") for name in saved)
    # The hosts are gone: the second run can only have judged the saved snapshots.
    shutil.rmtree(example / "host1")
    shutil.rmtree(example / "host2")
    run(pytester, example, result, "--preflight-facts", str(facts)).assert_outcomes(failed=1)
    assert json.loads(result.read_text()) == first
    # Without the option the same suite looks at hosts that are not there.
    out = run(pytester, example, result)
    out.assert_outcomes(failed=1)
    assert not result.exists() and "InspectError: --source" in out.stdout.str()


def test_pair_fixture_takes_snapshot_files(pytester: pytest.Pytester, example: Path, tmp_path: Path) -> None:
    facts = tmp_path / "saved"  # made as a user makes them: `check --save-facts`
    code, text = check(example, "--format", "json", "--save-facts", str(facts), "--select", "SSH")
    ssh = sorted({f["rule"] for f in json.loads(text)["findings"]})
    failed = [f["rule"] for f in json.loads(text)["findings"] if f["status"] == "fail"]
    assert code == 1 and ssh and failed
    pytester.makepyfile(test_saved=f'''
def test_saved(preflight_pair):
    report = preflight_pair(source_facts={str(facts / "source.json")!r},
                            dest_facts={str(facts / "destination.json")!r},
                            guests=["guest1-rhel6-64"], dest_uri={URI!r}, concurrency=12, select=["SSH"])
    assert sorted({{f.rule for f in report.findings}}) == {ssh!r}
    assert [f.rule for f in report.findings if f.status.value == "fail"] == {failed!r}
''')
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_host_fixture_gives_one_hosts_view(pytester: pytest.Pytester, example: Path) -> None:
    pytester.makepyfile(test_one=f'''
def test_one(preflight_host):
    view = preflight_host({str(example / "host2")!r}, libvirt={f"test://{example / 'host2.xml'}"!r})
    assert view.hostname.get() == "host2.example.com"
    assert view.image_mode
''')
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_option_is_listed_in_help(pytester: pytest.Pytester) -> None:
    out = pytester.runpytest("--help")
    assert "--preflight-facts=DIR" in out.stdout.str()
