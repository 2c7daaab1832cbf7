"""Where a finding is, for CI outputs (SARIF, GitHub annotations): a file in the repository or a host.

The repository is the git work tree holding the current directory (its top: where a CI checkout
is rooted and where GitHub resolves relative paths), else the current directory. An image root
inside it gives repository paths: the image root's path + the file inside the image, so code
scanning and annotations land on the file in the pull request. A live host's files are never in
the repository: they get ``file://HOST/PATH`` (RFC 8089's file on another machine; ``file:///PATH``
for ``local``), absolute, so no consumer resolves them against the checkout and source and
destination differ.
"""

from __future__ import annotations

import os
import posixpath
from urllib.parse import quote

from preflight.fsutil import git_top
from preflight.model.facts import HostMode, HostSnapshot


def source_root(cwd: str | None = None) -> str:
    """The top of the git work tree holding ``cwd`` (a ``.git`` directory or file), else ``cwd``."""
    start = os.path.abspath(cwd or os.getcwd())  # as spelt, not resolved: URIs relative to what the user typed
    return git_top(start) or start


def host_path(path: str) -> str:
    """``path`` as the host resolves it lexically: absolute, no '.' or '..' (``/..`` is ``/``), so
    it never names anything outside the host's (or image root's) own tree."""
    return posixpath.normpath("/" + path.lstrip("/")).replace("//", "/")


def repo_path(snapshot: HostSnapshot | None, path: str | None, root: str | None = None) -> str | None:
    """For an image root inside the repository: the repository path ('/'-separated) of ``path`` on
    the host, or of the image root itself when ``path`` is None; None for anything else."""
    if snapshot is None or snapshot.mode is not HostMode.IMAGE:
        return None
    image = os.path.abspath(os.path.expanduser(snapshot.spec))
    target = os.path.join(image, host_path(path).lstrip("/")) if path else image
    rel = os.path.relpath(os.path.normpath(target), root or source_root())
    if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
        return None
    return "" if rel == "." else rel.replace(os.sep, "/")


def host_authority(snapshot: HostSnapshot | None) -> str:
    """The host part of a ``file://`` URI for a live host: its ssh host, or empty (this machine)."""
    if snapshot is None or snapshot.mode is HostMode.IMAGE:
        return ""
    from preflight.access.spec import HostSpecError, parse_host_spec

    try:
        host = parse_host_spec(snapshot.spec).url_host if snapshot.spec.startswith("ssh://") else ""
    except HostSpecError:
        return ""
    return quote(host, safe="[]:")


def file_uri(snapshot: HostSnapshot | None, path: str | None) -> str:
    """An absolute ``file:`` URI for ``path`` (or the host's root, for a directory: trailing '/'),
    normalised: no '..' segment (SARIF validators refuse them: symlinks make them ambiguous)."""
    if snapshot is not None and snapshot.mode is HostMode.IMAGE:
        image = os.path.abspath(os.path.expanduser(snapshot.spec))
        full = posixpath.join(image, host_path(path).lstrip("/")) if path else image.rstrip("/") + "/"
        return "file://" + quote(full, errors="surrogateescape")
    where = host_path(path) if path else "/"
    return f"file://{host_authority(snapshot)}{quote(where, errors='surrogateescape')}"


def repo_file_line(where: str, root: str | None = None) -> tuple[str, int | None] | None:
    """``PATH:LINE`` (a waiver's or comment's place) as (repository path, line) when PATH is a file
    inside the repository (absolute, or relative to the current directory); None otherwise."""
    path, sep, tail = where.rpartition(":")
    line = int(tail) if sep and tail.isdigit() and int(tail) > 0 else None
    if line is None:
        path = where
    if not path or not os.path.isfile(path):
        return None
    rel = os.path.relpath(os.path.abspath(path), root or source_root())
    if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
        return None
    return rel.replace(os.sep, "/"), line


def host_key(snapshot: HostSnapshot, root: str | None = None) -> str:
    """A host's identity for fingerprints that does not depend on where the repository is checked
    out (CI runners use different paths): an image root's repository path, else the spec."""
    rel = repo_path(snapshot, None, root)
    return f"repo:{rel or '.'}" if rel is not None else snapshot.spec
