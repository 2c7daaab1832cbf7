"""The config file (issue 9 item 2): found upward like ruff's, every key checked with file:line, and each
setting (select, ignore, severity, concurrency, [[paths]]) changing the judgement."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from preflight.config import ConfigError, find_config, key_line, load_config
from tests.cli.test_cli import EXAMPLES, example_args, preflight


def images(tmp_path: Path) -> Path:
    """A repo of image roots (a copy of the built-in example: host1, host2 and their guest XML)."""
    root = tmp_path / "images"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("run.sh"))
    return root


def run_json(*args: str, cwd: Path) -> tuple[int, dict[str, Any], str]:
    out = preflight(*args, "--format", "json", cwd=cwd)
    assert out.returncode in (0, 1, 3), out.stderr
    return out.returncode, json.loads(out.stdout), out.stderr


def line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def failing(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["rule"], f["host"]) for f in report["findings"] if f["status"] == "fail"]


# --- errors name file:line ---------------------------------------------------------------------------------
@pytest.mark.parametrize("body,needle,words", [
    ('select = ["SSH"]\n\n[[waivers]]\nrule = "SSH001"\nreasn = "typo"\n', 'reasn = "typo"', "unknown key 'reasn'"),
    ('select = ["SSH"]\nconcurency = 4\n', "concurency = 4", "unknown key 'concurency'"),
    ('concurrency = "ten"\n', 'concurrency = "ten"', "concurrency must be an integer"),
    ('[severity]\nLIM003 = "fatal"\n', 'LIM003 = "fatal"', "must be one of error, warning, info"),
    ('severity.LIM003 = "fatal"\n', 'severity.LIM003 = "fatal"', "must be one of error, warning, info"),
    ('ignore = ["NOPE9"]\n', 'ignore = ["NOPE9"]', "no rule matches 'NOPE9'"),
    ('[[paths]]\nroot = "images/host1"\n\n[[paths]]\nroot = "images/host2"\npeer = ["x"]\n', 'peer = ["x"]',
     "unknown key 'peer'"),
    ('[[waivers]]\nrule = "SSH001"\nhost = "destination"\n', "[[waivers]]", "reason = \"...\" is required"),
    ('[[waivers]]\nrule = "SSH001"\nreason = "r"\nexpires = "soon"\n', 'expires = "soon"', "must be a date"),
])
def test_a_bad_config_is_exit_2_naming_file_and_line(tmp_path: Path, body: str, needle: str, words: str) -> None:
    root = images(tmp_path)
    (tmp_path / "preflight.toml").write_text(body)
    out = preflight(*example_args(root), cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"preflight.toml:{line_of(body, needle)}: " in out.stderr
    assert words in out.stderr
    assert out.stdout == ""  # no host was judged


def test_unknown_key_in_pyproject_tool_table_names_its_line(tmp_path: Path) -> None:
    body = '[project]\nname = "x"\n\n[tool.preflight]\nselect = ["NET"]\n\n[tool.preflight.severity]\nSSH001 = "warn"\n'
    (tmp_path / "pyproject.toml").write_text(body)
    with pytest.raises(ConfigError) as err:
        load_config(None, tmp_path)
    assert err.value.line == line_of(body, 'SSH001 = "warn"')
    assert str(err.value).startswith(f"{tmp_path / 'pyproject.toml'}:{err.value.line}: ")


def test_invalid_toml_names_its_line(tmp_path: Path) -> None:
    body = 'select = ["NET"]\nignore = [\n'
    (tmp_path / "preflight.toml").write_text(body)
    out = preflight(*example_args(images(tmp_path)), cwd=tmp_path)
    assert out.returncode == 2 and "not valid TOML" in out.stderr and "preflight.toml:" in out.stderr


def test_key_line_counts_array_of_tables_entries() -> None:
    text = '[[waivers]]\nrule = "A"\n\n[[waivers]]\nrule = "B"\nbad = 1\n'
    assert key_line(text, ("waivers", 1), "bad") == 6
    assert key_line(text, ("waivers", 0), "bad") == 1  # not in that entry: its header
    assert key_line(text, ("waivers", 1), None) == 4
    inline = 'select = ["NET"]\nseverity = { LIM003 = "fatal" }\n'
    assert key_line(inline, ("severity",), "LIM003") == 2


# --- found like ruff's ---------------------------------------------------------------------------------------
def test_found_from_the_working_directory_upward_and_named_with_v(tmp_path: Path) -> None:
    root = images(tmp_path)
    (tmp_path / "preflight.toml").write_text('select = ["SSH"]\n')
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    out = preflight(*example_args(root), "--format", "json", "-v", cwd=deep)
    rules = {f["rule"] for f in json.loads(out.stdout)["findings"]}
    assert rules and all(r.startswith("SSH") or r == "INS001" for r in rules), rules
    assert f"config: {tmp_path / 'preflight.toml'}" in out.stderr


def test_preflight_toml_wins_and_a_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    (tmp_path / "preflight.toml").write_text("concurrency = 3\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no [tool.preflight]: keep looking
    assert find_config(sub) == tmp_path / "preflight.toml"
    (sub / "pyproject.toml").write_text('[tool.preflight]\nconcurrency = 4\n')
    assert load_config(None, sub).concurrency == 4
    (sub / "preflight.toml").write_text("concurrency = 5\n")
    assert load_config(None, sub).concurrency == 5


def test_explicit_config_and_no_config(tmp_path: Path) -> None:
    root = images(tmp_path)
    (tmp_path / "preflight.toml").write_text('select = ["SSH"]\n')
    other = tmp_path / "other.toml"
    other.write_text('select = ["NET001"]\n')
    _, rep, _ = run_json(*example_args(root), "--config", str(other), cwd=tmp_path)
    assert {f["rule"] for f in rep["findings"]} - {"INS001"} == {"NET001"}
    _, rep, _ = run_json(*example_args(root), "--no-config", cwd=tmp_path)
    assert len({f["rule"] for f in rep["findings"]}) > 10
    out = preflight(*example_args(root), "--config", str(other), "--no-config", cwd=tmp_path)
    assert out.returncode == 2 and "exclude each other" in out.stderr


# --- the settings change the judgement ------------------------------------------------------------------------
def test_severity_override_turns_an_error_into_a_warning(tmp_path: Path) -> None:
    root = images(tmp_path)
    (tmp_path / "preflight.toml").write_text('select = ["SSH001"]\n')
    code, rep, _ = run_json(*example_args(root), cwd=tmp_path)
    assert code == 1 and ("SSH001", "destination") in failing(rep)
    (tmp_path / "preflight.toml").write_text('select = ["SSH001"]\n[severity]\nsshd-max-startups = "warning"\n')
    code, rep, _ = run_json(*example_args(root), cwd=tmp_path)
    assert code == 0 and rep["verdict"] == "ready"
    assert [f["severity"] for f in rep["findings"] if f["rule"] == "SSH001" and f["status"] == "fail"] == ["warning"]


def test_cli_select_replaces_config_select_and_ignore_adds(tmp_path: Path) -> None:
    root = images(tmp_path)
    (tmp_path / "preflight.toml").write_text('select = ["SSH"]\nignore = ["NET002"]\n')
    _, rep, _ = run_json(*example_args(root), "--select", "NET", cwd=tmp_path)
    rules = {f["rule"] for f in rep["findings"]}
    assert "NET001" in rules and "NET002" not in rules and not any(r.startswith("SSH") for r in rules)


def test_config_concurrency_is_the_default_and_the_flag_wins(tmp_path: Path) -> None:
    root = images(tmp_path)
    (tmp_path / "preflight.toml").write_text("concurrency = 7\n")
    args = example_args(root)
    i = args.index("--concurrency")
    del args[i:i + 2]
    _, rep, _ = run_json(*args, cwd=tmp_path)
    assert rep["plan"]["concurrency"] == 7
    _, rep, _ = run_json(*args, "--concurrency", "12", cwd=tmp_path)
    assert rep["plan"]["concurrency"] == 12


def test_paths_entry_ignores_a_rule_on_that_image_root_only(tmp_path: Path) -> None:
    root = images(tmp_path)
    code, rep, _ = run_json(*example_args(root), cwd=tmp_path)
    assert ("LIM001", "source") in failing(rep) and ("LIM001", "destination") in failing(rep)
    (tmp_path / "preflight.toml").write_text('[[paths]]\nroot = "images/host2"\nignore = ["LIM001"]\n'
                                             '[paths.severity]\nSSH001 = "warning"\n')
    _, rep, _ = run_json(*example_args(root), cwd=tmp_path)
    assert ("LIM001", "source") in failing(rep) and ("LIM001", "destination") not in failing(rep)
    assert [f["severity"] for f in rep["findings"] if f["rule"] == "SSH001" and f["status"] == "fail"] == ["warning"]
    cfg = load_config(None, tmp_path)
    assert cfg.for_path(root / "host2") is cfg.paths[0] and cfg.for_path(root / "host1") is None


def test_python_3_10_says_config_files_need_3_11(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No TOML parser is vendored: on 3.10 a config that exists is an error that says so (not ignored)."""
    import sys

    (tmp_path / "preflight.toml").write_text('select = ["SSH"]\n')
    monkeypatch.setattr(sys, "version_info", (3, 10, 14, "final", 0))
    with pytest.raises(ConfigError, match=r"need Python 3.11 or newer .*--no-config"):
        load_config(None, tmp_path)
    assert load_config(None, tmp_path, search=False).source is None


def test_help_shows_the_config_tables_literally() -> None:
    import re

    text = re.sub(r"[│\s]+", " ", preflight("check", "-h").stdout)
    assert "[tool.preflight] in pyproject.toml" in text and "[[waivers]] (rule, host, subject, reason, expires)" in text
    assert "# preflight: ignore[SSH001] reason" in text


def test_a_missing_baseline_named_by_the_config_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "preflight.toml").write_text('baseline = "nope.toml"\n')
    out = preflight(*example_args(images(tmp_path)), cwd=tmp_path)
    assert out.returncode == 2 and f"{tmp_path / 'nope.toml'}: cannot read" in out.stderr


def test_fix_follows_the_config_selection(tmp_path: Path) -> None:
    root = images(tmp_path)
    fix = ["fix", *example_args(root)[1:], "--format", "json"]
    every = json.loads(preflight(*fix, "--no-config", cwd=tmp_path).stdout)
    assert every["hosts"]["source"]["files"]  # NET001's /etc/hosts fix
    (tmp_path / "preflight.toml").write_text('select = ["SSH001"]\n')
    only = json.loads(preflight(*fix, cwd=tmp_path).stdout)
    assert only["hosts"]["source"]["files"] == []
    assert [f["rules"] for f in only["hosts"]["destination"]["files"]] == [["SSH001"]]


def test_a_config_planted_in_a_shared_directory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A preflight.toml planted by another user in a world-writable directory above the working directory
    (/tmp) must not waive findings; a checkout owned by another user (a CI container) is used."""
    import os

    config = tmp_path / "preflight.toml"
    config.write_text('[[waivers]]\nrule = "SSH001"\nreason = "planted"\n')
    if os.getuid() == 0:
        os.chown(config, 12345, 12345)
    else:  # we own the file: be another user
        me = os.getuid()
        monkeypatch.setattr(os, "getuid", lambda: me + 1)
    tmp_path.chmod(0o755)
    assert load_config(None, tmp_path).waivers[0].reason == "planted"
    tmp_path.chmod(0o1777)
    with pytest.raises(ConfigError, match="world-writable directory, owned by uid .*not used .*--config FILE"):
        load_config(None, tmp_path)
    assert load_config(config, tmp_path).waivers[0].reason == "planted"
    tmp_path.chmod(0o755)
