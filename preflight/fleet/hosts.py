"""Inventory hosts turned into validated host specs; an inventory is hostile input.

Every value that reaches ssh or a URI goes through preflight.access.spec's validation (a
conservative user, a host name or address, a port 1-65535): ``ansible_host: "-oProxyCommand=..."``
is refused with the file:line that set it, never passed to ssh.

Variables read (Ansible's names): ``ansible_host`` (or ``ansible_ssh_host``; default the inventory
name), ``ansible_user`` (``ansible_ssh_user``), ``ansible_port`` (``ansible_ssh_port``),
``ansible_connection`` (``ssh``/``smart``/``paramiko`` or ``local``), ``ansible_become`` (sudo only).
Our own: ``preflight_root`` (an image root directory, relative to the inventory's directory; for CI and
offline use), ``preflight_libvirt`` (with ``preflight_root`` only: ``test:///FILE.xml``, relative to the
inventory), ``preflight_dest_name`` (the name in ``qemu+ssh://NAME/system`` when others migrate to this
host; default the inventory name when it is a host name, else the address gathered).

``ansible_port`` is validated for every kind of host (1-65535, with its file:line); an image root's or a
local host's valid port stays in the DESTURI others migrate to (``qemu+ssh://NAME:PORT/system``).

Variables that change how Ansible reaches a host (a bastion in ``ansible_ssh_common_args``, a key, a
password, another ssh program) are never used: their values are hostile input and never reach ssh.
Each one set for an ssh host is an :class:`Ignored` note (the variable, its file:line, what to do
instead: an ssh config file passed with ``--ssh-config``); a host that then fails says so in its reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from preflight.access import AccessOptions, HostSpec, HostSpecError
from preflight.access.spec import check_host, check_port, check_user
from preflight.fleet.inventory import Inventory, InventoryError, Var
from preflight.uri import migration_uri

SSH_CONNECTIONS = ("ssh", "smart", "paramiko", "paramiko_ssh")
TRUE = ("yes", "on", "true", "1", "y", "t")
FALSE = ("no", "off", "false", "0", "n", "f", "")

_SSH_CONFIG = "put its options (ProxyJump, IdentityFile, ...) in an ssh config file and pass --ssh-config FILE"
_KEY = "put IdentityFile in an ssh config file and pass --ssh-config FILE (or load the key into ssh-agent)"
_PASSWORD = ("preflight logs in with keys only (ssh BatchMode): load a key into ssh-agent, or put IdentityFile "
             "in an ssh config file and pass --ssh-config FILE")
# Ansible's ssh connection variables preflight does not use (ansible-core's ssh plugin), and what to do instead
IGNORED_SSH = {
    "ansible_ssh_args": _SSH_CONFIG, "ansible_ssh_common_args": _SSH_CONFIG, "ansible_ssh_extra_args": _SSH_CONFIG,
    "ansible_ssh_executable": "preflight runs the ssh on PATH; " + _SSH_CONFIG,
    "ansible_private_key_file": _KEY, "ansible_ssh_private_key_file": _KEY,
    "ansible_private_key": _KEY, "ansible_ssh_private_key": _KEY, "ansible_ssh_pkcs11_provider": _SSH_CONFIG,
    "ansible_password": _PASSWORD, "ansible_ssh_pass": _PASSWORD, "ansible_ssh_password": _PASSWORD,
}
IGNORED_SUDO = {k: "preflight runs sudo -n (never a password): allow the login user passwordless sudo (NOPASSWD)"
                for k in ("ansible_become_password", "ansible_become_pass", "ansible_sudo_pass")}


@dataclass(frozen=True)
class Ignored:
    """An inventory variable preflight does not use for this host (its value is never read nor shown)."""

    variable: str
    where: str  # file:line
    advice: str

    @property
    def message(self) -> str:
        return f"{self.where}: {self.variable} is ignored (its value is never read nor passed to ssh): {self.advice}"


@dataclass
class FleetHost:
    name: str  # the inventory name
    spec: HostSpec
    libvirt: str | None  # None: the default for the spec (built by preflight.uri)
    options: AccessOptions
    dest_uri: str  # qemu+ssh://NAME[:port]/system, what a source's `virsh migrate` would name
    groups: list[str]
    ignored: list[Ignored] = field(default_factory=list)  # connection variables set for it that are not used

    def unreachable_hint(self) -> str:
        """What a failed gather's reason adds: the connection variables the inventory set and preflight ignored."""
        if not self.ignored:
            return ""
        named = ", ".join(f"{i.variable} ({i.where})" for i in self.ignored)
        return f" (the inventory sets {named}, which preflight ignores: {self.ignored[0].advice})"


def _var(inv: Inventory, host: str, *keys: str) -> tuple[Var, str]:
    for key in keys:
        found = inv.var(host, key)
        if found.where is not None:
            return found, key
    return Var(None, None, ""), keys[0]


def _at(var: Var, key: str, host: str) -> str:
    where = f"{var.where}: " if var.where is not None else ""
    return f"{where}host {host!r}: {key}"


def _text(var: Var, key: str, host: str) -> str:
    if not isinstance(var.value, (str, int)) or isinstance(var.value, bool):
        raise InventoryError(f"{_at(var, key, host)} must be a string, not {type(var.value).__name__}")
    return str(var.value)


def _bool(var: Var, key: str, host: str) -> bool:
    value = var.value
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise InventoryError(f"{_at(var, key, host)}: {str(value)[:40]!r} is not a boolean")


def build(inv: Inventory, name: str, base: AccessOptions) -> FleetHost:
    """The host ``name`` as a validated spec; InventoryError (with file:line) for a value we refuse."""
    conn_var, conn_key = _var(inv, name, "ansible_connection")
    connection = _text(conn_var, conn_key, name) if conn_var.where else "ssh"
    root_var, root_key = _var(inv, name, "preflight_root")
    lv_var, lv_key = _var(inv, name, "preflight_libvirt")
    become_var, become_key = _var(inv, name, "ansible_become")
    sudo = base.sudo or (become_var.where is not None and _bool(become_var, become_key, name))
    if sudo and become_var.where is not None:
        method_var, method_key = _var(inv, name, "ansible_become_method")
        if method_var.where is not None and _text(method_var, method_key, name) != "sudo":
            raise InventoryError(f"{_at(method_var, method_key, name)}: only sudo is supported")
    options = AccessOptions(timeout=base.timeout, sudo=sudo, ssh_config=base.ssh_config,
                            strict_host_key_checking=base.strict_host_key_checking,
                            control_persist=base.control_persist)
    libvirt: str | None = None
    port = _port(inv, name)  # every kind: an image root's port is its DESTURI's
    ignored: list[Ignored] = []
    if root_var.where is not None:
        spec = _image_spec(inv, _text(root_var, root_key, name), root_var, root_key, name)
        if lv_var.where is not None:
            libvirt = _test_uri(inv, _text(lv_var, lv_key, name), lv_var, lv_key, name)
    elif lv_var.where is not None:
        raise InventoryError(f"{_at(lv_var, lv_key, name)} is only read with preflight_root "
                             "(a live host's libvirt URI is built from its address)")
    elif connection == "local":
        spec = HostSpec(kind="local")
    elif connection in SSH_CONNECTIONS:
        spec = _ssh_spec(inv, name, port)
        ignored = _ignored(inv, name, {**IGNORED_SSH, **(IGNORED_SUDO if sudo else {})})
    else:
        raise InventoryError(f"{_at(conn_var, conn_key, name)}={connection[:40]!r} is not supported "
                             f"(ssh, local, or preflight_root)")
    return FleetHost(name, spec, libvirt, options, _dest_uri(inv, name, spec, port), inv.host_groups(name),
                     ignored)


def _ignored(inv: Inventory, name: str, variables: dict[str, str]) -> list[Ignored]:
    """The variables of ``variables`` set for ``name`` (where Ansible would take them from): never their values."""
    out = []
    for key, advice in variables.items():
        var = inv.var(name, key)
        if var.where is not None:
            out.append(Ignored(key, str(var.where), advice))
    return out


def _port(inv: Inventory, name: str) -> int | None:
    """``ansible_port`` (``ansible_ssh_port``) as a port number 1-65535, None when unset; InventoryError with its
    file:line for anything else."""
    var, key = _var(inv, name, "ansible_port", "ansible_ssh_port")
    if var.where is None:
        return None
    raw = var.value
    text = str(raw) if isinstance(raw, (int, str)) and not isinstance(raw, bool) else ""
    if not (text.isascii() and text.isdigit() and len(text) <= 5):
        raise InventoryError(f"{_at(var, key, name)}: {str(raw)[:40]!r} is not a port number")
    try:
        return check_port(int(text))
    except HostSpecError as exc:
        raise InventoryError(f"{_at(var, key, name)}: {exc}") from None


def _ssh_spec(inv: Inventory, name: str, port: int | None) -> HostSpec:
    host_var, host_key = _var(inv, name, "ansible_host", "ansible_ssh_host")
    user_var, user_key = _var(inv, name, "ansible_user", "ansible_ssh_user")
    try:
        address = check_host(_text(host_var, host_key, name)) if host_var.where else check_host(name)
    except HostSpecError as exc:
        where = _at(host_var, host_key, name) if host_var.where else f"{inv.hosts[name].defined}: host {name!r}"
        raise InventoryError(f"{where}: {exc}") from None
    user = None
    if user_var.where is not None:
        try:
            user = check_user(_text(user_var, user_key, name))
        except HostSpecError as exc:
            raise InventoryError(f"{_at(user_var, user_key, name)}: {exc}") from None
    return HostSpec(kind="ssh", user=user, host=address, port=port)


def _image_spec(inv: Inventory, path: str, var: Var, key: str, name: str) -> HostSpec:
    full = os.path.join(inv.directory, path)
    if not os.path.isdir(full):
        raise InventoryError(f"{_at(var, key, name)}: {path[:200]!r} is not a directory (an image root)")
    return HostSpec(kind="image", root=os.path.abspath(full))


def _test_uri(inv: Inventory, uri: str, var: Var, key: str, name: str) -> str:
    # only libvirt's test driver reading a model file: any other URI could name a program to run
    if not uri.startswith("test://"):
        raise InventoryError(f"{_at(var, key, name)}: only test:///FILE.xml (libvirt's test driver) is read")
    path = os.path.join(inv.directory, uri[len("test://"):])
    if "?" in uri or "#" in uri or not os.path.isfile(path):
        raise InventoryError(f"{_at(var, key, name)}: {uri[:200]!r} does not name an XML file")
    return "test://" + os.path.abspath(path)


def _dest_uri(inv: Inventory, name: str, spec: HostSpec, port: int | None) -> str:
    """``qemu+ssh://NAME[:port]/system``: built by preflight.uri from a validated spec, read back to check."""
    var, key = _var(inv, name, "preflight_dest_name")
    if var.where is not None:
        try:
            dest = check_host(_text(var, key, name))
        except HostSpecError as exc:
            raise InventoryError(f"{_at(var, key, name)}: {exc}") from None
    else:
        try:
            dest = check_host(name)
        except HostSpecError as exc:
            if not spec.host:  # an image root or a local host: no other name to migrate to
                raise InventoryError(f"{inv.hosts[name].defined}: host {name!r}: the name others migrate to "
                                     f"(qemu+ssh://NAME/system): {exc}; set preflight_dest_name") from None
            dest = spec.host
    try:  # never a URI that names another host than the one judged
        return migration_uri(HostSpec(kind="ssh", host=dest, port=port))
    except HostSpecError:
        raise InventoryError(f"{inv.hosts[name].defined}: host {name!r}: cannot build a destination URI") from None
