# Copyright: migration-preflight contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""preflight_gather: one host's facts snapshot, gathered through Ansible's own connection.

The host runs preflight's gather script (POSIX sh, no python needed there) as one quoted command
line through ``_low_level_execute_command``: Ansible's inventory, connection plugin, ssh arguments,
``become`` and forks apply. libvirt facts are read here on the controller over a read-only
connection (preflight.gather.external.host_libvirt). The snapshot is returned as a fact.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.utils.unsafe_proxy import wrap_var

SSH_CONNECTIONS = ("ssh", "paramiko", "paramiko_ssh", "smart")
FACT_NAME = "preflight_snapshot"

ARGS = {
    "role": {"type": "str", "required": True, "choices": ["source", "destination"]},
    "plan": {"type": "dict", "required": True},
    "peer": {"type": "dict"},
    "update": {"type": "bool", "default": False},
    "libvirt": {"type": "bool", "default": True},
    "libvirt_timeout": {"type": "float", "default": 30.0},
    "command_timeout": {"type": "int", "default": 10},
    "fact_name": {"type": "str", "default": FACT_NAME},
}


def _preflight() -> Any:
    try:
        from preflight.gather import external
    except ImportError as exc:
        raise AnsibleActionFail(
            "the migration-preflight package is not importable by the python running ansible "
            f"(install it in the same environment as ansible-core): {exc}"
        ) from None
    return external


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        _, args = self.validate_argument_spec(argument_spec=ARGS)
        external = _preflight()
        from preflight.access.spec import HostSpec, HostSpecError, check_host

        try:
            plan = external.plan_from(args["plan"])
        except ValueError as exc:
            raise AnsibleActionFail(f"plan: {exc}") from None

        transport = to_text(self._connection.transport).rsplit(".", 1)[-1]
        try:
            spec = self._spec(HostSpec, check_host, transport, task_vars)
        except HostSpecError as exc:
            raise AnsibleActionFail(f"inventory address of {task_vars.get('inventory_hostname')}: {exc}") from None

        def run(command: str, script: bytes) -> tuple[int, str, str]:
            # the script on stdin: Ansible's ssh allocates no terminal for a command with input
            out = self._low_level_execute_command(command, sudoable=True, in_data=script)
            return int(out.get("rc", 1)), out.get("stdout", ""), out.get("stderr", "")

        timeout = max(1, args["command_timeout"])
        try:
            if args["update"]:
                snap = self._update(external, args, plan, run, timeout, task_vars)
            else:
                snap = self._gather(external, args, plan, run, timeout, spec, transport)
        except ValueError as exc:  # a peer or earlier snapshot that is not a usable snapshot
            raise AnsibleActionFail(str(exc)) from None

        import json

        data = json.loads(snap.to_json())
        ok = sum(1 for p in snap.probes.values() if p.ok)
        result.update(
            changed=False,
            ansible_facts={args["fact_name"]: wrap_var(data)},
            probes_ok=ok,
            probes=len(snap.probes),
            libvirt_status=snap.libvirt.status.value if snap.libvirt else "not consulted",
            libvirt_error=wrap_var(snap.libvirt.error if snap.libvirt else None),
        )
        return result

    def _spec(self, host_spec: Any, check_host: Any, transport: str, task_vars: dict[str, Any]) -> Any:
        """The host as preflight names it: local, or ssh://[user@]host[:port] from the connection's own
        (templated) address, user and port, each validated by preflight.access.spec."""
        if transport == "local":
            return host_spec(kind="local")
        addr = to_text(self._get_remote_addr(task_vars))
        user = self._get_remote_user()
        try:
            port = self._connection.get_option("port")
        except KeyError:
            port = self._play_context.port
        return host_spec(kind="ssh", host=check_host(addr), user=to_text(user) if user else None,
                         port=int(port) if port not in (None, "") else None)

    def _gather(self, external: Any, args: dict[str, Any], plan: Any, run: Any, timeout: int, spec: Any,
                transport: str) -> Any:
        def libvirt() -> Any:
            if transport in SSH_CONNECTIONS or transport == "local":
                return external.host_libvirt(spec, args["libvirt"], args["libvirt_timeout"])
            # docker, podman, winrm ...: the controller cannot open libvirt the way Ansible connects
            return external.not_gathered("", f"not gathered: connection {transport!r} gives no libvirt URI "
                                             "(ssh and local do)")

        if args["role"] == "source":  # its guests' disk paths come from its libvirt: read it first
            facts = libvirt()
            peer = external.snapshot_from(args["peer"], "destination") if args["peer"] else None
            return external.gather(run, spec, "source", facts, external.source_wants(plan, facts, peer),
                                   command_timeout=timeout)
        if not args["peer"]:
            raise AnsibleActionFail("role destination needs peer: the source's snapshot "
                                    "(its guests' disks and emulators are examined here)")
        wants = external.dest_wants(plan, external.snapshot_from(args["peer"], "source"))
        return external.gather(run, spec, "destination", libvirt, wants, command_timeout=timeout)  # side by side

    def _update(self, external: Any, args: dict[str, Any], plan: Any, run: Any, timeout: int,
                task_vars: dict[str, Any]) -> Any:
        """A source's names-only follow-up: the names the destination's snapshot revealed."""
        from preflight.model import probes as pk

        if args["role"] != "source" or not args["peer"]:
            raise AnsibleActionFail("update: true is for role source, with peer: the destination's snapshot")
        earlier = task_vars.get(args["fact_name"])
        if not isinstance(earlier, dict):
            raise AnsibleActionFail(f"update: true needs this host's {args['fact_name']} fact "
                                    "(run preflight_gather role: source first)")
        snap = external.snapshot_from(earlier, "source")
        asked = [k[len(pk.GETENT_PREFIX):] for k in snap.probes if k.startswith(pk.GETENT_PREFIX)]
        wants = external.source_wants(plan, snap.libvirt, external.snapshot_from(args["peer"], "destination"), asked)
        return external.add_names(run, snap, list(wants.names), command_timeout=timeout)
