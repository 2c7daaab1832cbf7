"""Ansible's YAML inventory format, read as ansible's yaml inventory plugin reads it.

Top level: group name -> ``{hosts: {NAME: {vars} | null}, vars: {...}, children: {GROUP: {...}}}``
(usually one group, ``all``). Host names may hold ranges and ``:port``. Read through the node tree
(yaml.compose, safe tags only) so every value keeps its line; anchors are followed within a bound.
"""

from __future__ import annotations

from typing import Any

from preflight.fleet.ini import split_host_pattern
from preflight.fleet.inventory import ALL, Inventory, InventoryError, Where

SECTIONS = ("hosts", "vars", "children")
MAX_NODES = 500_000  # nodes visited (aliases count each time): a billion-laughs file stops here
MAX_DEPTH = 64


class _Walk:
    def __init__(self, path: str, loader: Any) -> None:
        self.path = path
        self.loader = loader
        self.visited = 0

    def where(self, node: Any) -> Where:
        return Where(self.path, node.start_mark.line + 1)

    def count(self, node: Any) -> None:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise InventoryError(f"{self.where(node)}: more than {MAX_NODES} YAML nodes (aliases included)")

    def mapping(self, node: Any, what: str) -> list[tuple[Any, Any]]:
        """(key node, value node) pairs of a mapping; null is an empty one."""
        import yaml  # type: ignore[import-untyped]

        self.count(node)
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return []
        if not isinstance(node, yaml.MappingNode):
            raise InventoryError(f"{self.where(node)}: {what} must be a mapping")
        return list(node.value)

    def scalar(self, node: Any, what: str) -> object:
        import yaml  # type: ignore[import-untyped]

        self.count(node)
        if not isinstance(node, yaml.ScalarNode):
            return self.plain(node, 0)
        return self.loader.construct_object(node)

    def key(self, node: Any, what: str) -> str:
        import yaml  # type: ignore[import-untyped]

        if not isinstance(node, yaml.ScalarNode):
            raise InventoryError(f"{self.where(node)}: {what} must be a plain name")
        return str(node.value)

    def plain(self, node: Any, depth: int) -> object:
        """A nested value (a list or mapping var) as Python data, bounded."""
        import yaml  # type: ignore[import-untyped]

        self.count(node)
        if depth > MAX_DEPTH:
            raise InventoryError(f"{self.where(node)}: nested deeper than {MAX_DEPTH}")
        if isinstance(node, yaml.ScalarNode):
            return self.loader.construct_object(node)
        if isinstance(node, yaml.SequenceNode):
            return [self.plain(v, depth + 1) for v in node.value]
        return {str(self.plain(k, depth + 1)): self.plain(v, depth + 1) for k, v in node.value}


def parse_yaml(text: str, path: str) -> Inventory:
    import yaml  # type: ignore[import-untyped]

    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_cls(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise InventoryError(f"{path}:{line}: not YAML: {getattr(exc, 'problem', None) or exc}") from None
    inv = Inventory(path)
    if root is None:
        return inv.finish()
    walk = _Walk(path, loader)
    try:
        for key, value in walk.mapping(root, "the inventory's top level"):
            _group(inv, walk, walk.key(key, "a group name"), value, walk.where(key), 0)
    except yaml.YAMLError as exc:  # a value the safe constructor refuses (a bad !!timestamp, ...)
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise InventoryError(f"{path}:{line}: {getattr(exc, 'problem', None) or exc}") from None
    finally:
        loader.dispose()
    return inv.finish()


def _group(inv: Inventory, walk: _Walk, name: str, node: Any, where: Where, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InventoryError(f"{where}: groups nested deeper than {MAX_DEPTH}")
    inv.group(name, where)
    for key_node, value in walk.mapping(node, f"group {name!r}"):
        section = walk.key(key_node, "a group section")
        at = walk.where(key_node)
        if section not in SECTIONS:
            raise InventoryError(f"{at}: group {name!r}: unexpected key {section!r} "
                                 "(only hosts, vars and children)")
        if section == "vars":
            grp = inv.group(name)
            for k, v in walk.mapping(value, f"{name}'s vars"):
                var = walk.key(k, "a variable name")
                grp.vars[var] = walk.scalar(v, var)
                grp.where[var] = walk.where(k)
        elif section == "children":
            for k, v in walk.mapping(value, f"{name}'s children"):
                child = walk.key(k, "a group name")
                if name != ALL:
                    inv.add_child(name, child, walk.where(k))
                _group(inv, walk, child, v, walk.where(k), depth + 1)
        else:
            for k, v in walk.mapping(value, f"{name}'s hosts"):
                hw = walk.where(k)
                names, port = split_host_pattern(walk.key(k, "a host name"), hw)
                variables = [(walk.key(vk, "a variable name"), walk.scalar(vv, "value"), walk.where(vk))
                             for vk, vv in walk.mapping(v, "host vars")]
                for host_name in names:
                    host = inv.add_host(host_name, name, hw)
                    if port is not None:
                        host.vars["ansible_port"], host.where["ansible_port"] = port, hw
                    for var, val, vw in variables:
                        host.vars[var], host.where[var] = val, vw


def parse_vars(text: str, path: str) -> list[tuple[str, object, Where]]:
    """A vars file (group_vars/NAME.yml): a mapping of variables, each with its line; empty is none."""
    import yaml  # type: ignore[import-untyped]

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return []
        walk = _Walk(path, loader)
        return [(walk.key(k, "a variable name"), walk.scalar(v, "value"), walk.where(k))
                for k, v in walk.mapping(root, "a vars file")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InventoryError(f"{path}:{mark.line + 1 if mark is not None else 1}: not YAML: "
                             f"{getattr(exc, 'problem', None) or exc}") from None
    finally:
        loader.dispose()
