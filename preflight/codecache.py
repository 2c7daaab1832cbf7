"""A per-user cache of the functions `dataclasses` generates, for the command-line process only.

On CPython 3.10-3.12 each @dataclass compiles its __init__, __repr__, __eq__ (and, frozen, __setattr__
and __delattr__) from source text at import time: ~0.4 ms a class, ~25 ms of a `check` for the ~65
dataclasses it imports. The text depends only on the class's fields, so the compiled code objects are
kept, keyed by that exact text, in ``$XDG_CACHE_HOME/preflight/dataclass-code.TAG.marshal`` (the same
idea as a .pyc file) and reused: the functions are built exactly as dataclasses builds them, from the
same code. Python 3.13 compiles them in one go; there (and whenever the private hook does not look as
expected) nothing is patched. A cache file or directory another user could write is never read.
"""

from __future__ import annotations

import dataclasses
import marshal
import os
import stat
import sys
import types
from typing import Any

_codes: dict[str, types.CodeType] = {}
_new: dict[str, types.CodeType] = {}
_used: set[str] = set()  # the texts this run asked for: what a rewritten file keeps
_path: str | None = None
MAX_ENTRIES = 4096  # more than any release of ours makes: a growing file starts over
# dataclasses._create_fn's parameters on 3.10-3.12 (the hook is replaced only when they match)
EXPECTED = (("name", "args", "body"), ("globals", "locals", "return_type"))


def cache_path() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "preflight", f"dataclass-code.{sys.implementation.cache_tag}.marshal")


def _private(st: os.stat_result, directory: bool) -> bool:
    """Ours, and nobody else can write it (a directory: nobody else can even list it)."""
    if st.st_uid != os.geteuid():
        return False
    if directory:
        return stat.S_ISDIR(st.st_mode) and not st.st_mode & 0o077
    return stat.S_ISREG(st.st_mode) and not st.st_mode & 0o022


def _load(path: str) -> dict[str, types.CodeType]:
    try:
        if not _private(os.stat(os.path.dirname(path)), True):
            return {}
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return {}
    try:
        with os.fdopen(fd, "rb") as f:
            if not _private(os.fstat(f.fileno()), False):
                return {}
            data = marshal.loads(f.read())  # marshal.load(f) reads in small pieces: ~5x slower
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(data, dict) or len(data) > MAX_ENTRIES:
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, types.CodeType)}


def _hookable() -> bool:
    fn = getattr(dataclasses, "_create_fn", None)
    code = getattr(fn, "__code__", None)
    if not (3, 10) <= sys.version_info[:2] <= (3, 12) or code is None:
        return False
    names = code.co_varnames
    return (names[:code.co_argcount], names[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]) == EXPECTED


def _create_fn(name: str, args: list[str], body: list[str], *, globals: dict[str, Any] | None = None,  # noqa: A002
               locals: dict[str, Any] | None = None, return_type: Any = dataclasses.MISSING) -> Any:  # noqa: A002
    """dataclasses._create_fn of CPython 3.10-3.12, the compiled text looked up before compiling."""
    if locals is None:
        locals = {}
    return_annotation = ""
    if return_type is not dataclasses.MISSING:
        locals["_return_type"] = return_type
        return_annotation = "->_return_type"
    joined_args = ",".join(args)
    joined_body = "\n".join(f"  {b}" for b in body)
    txt = f" def {name}({joined_args}){return_annotation}:\n{joined_body}"
    local_vars = ", ".join(locals.keys())
    txt = f"def __create_fn__({local_vars}):\n{txt}\n return {name}"
    _used.add(txt)
    code = _codes.get(txt)
    if code is None:
        code = _codes[txt] = _new[txt] = compile(txt, "<string>", "exec", dont_inherit=True)  # no __future__ of ours
    ns: dict[str, Any] = {}
    exec(code, globals, ns)  # noqa: S102 - what dataclasses itself does with this text
    return ns["__create_fn__"](**locals)


def install() -> bool:
    """Reuse the cached code from now on (call before the modules with dataclasses are imported)."""
    global _path
    if _path is not None or not _hookable():
        return _path is not None
    _path = cache_path()
    _codes.update(_load(_path))
    dataclasses._create_fn = _create_fn  # type: ignore[attr-defined]
    return True


def save() -> None:
    """Write the cache (atomically; a failure is ignored) if this run compiled something new or a
    quarter of it went unused (classes since changed): it holds what this run used, so loading it
    stays ~1 ms."""
    stale = len(_codes) - len(_used)
    if _path is None or not _used or (not _new and stale * 4 <= len(_codes)):
        return
    directory = os.path.dirname(_path)
    tmp = f"{_path}.{os.getpid()}.tmp"
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if not _private(os.stat(directory), True):
            return
        data = {txt: _codes[txt] for txt in _used if txt in _codes}
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            marshal.dump(data, f)
        os.replace(tmp, _path)
        _new.clear()
    except (OSError, ValueError):
        try:
            os.unlink(tmp)
        except OSError:
            pass
