# Copyright: migration-preflight contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""preflight_check: judge a source -> destination migration on the controller from two snapshots.

Runs preflight's engine (the same rules as `preflight check`) over snapshots gathered by
preflight_gather (hostvars) or saved by `preflight check --save-facts` / `preflight facts`.
Nothing runs on any host. The task fails unless the verdict is READY.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.unsafe_proxy import wrap_var

ARGS = {
    "source": {"type": "dict"},
    "destination": {"type": "dict"},
    "source_facts": {"type": "path"},
    "dest_facts": {"type": "path"},
    "plan": {"type": "dict", "required": True},
    "select": {"type": "list", "elements": "str", "default": []},
    "ignore": {"type": "list", "elements": "str", "default": []},
    "fail_on": {"type": "str", "default": "error", "choices": ["error", "warning", "unknown"]},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False  # a pure computation on the controller

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars or {})
        del tmp
        _, args = self.validate_argument_spec(
            argument_spec=ARGS,
            mutually_exclusive=[("source", "source_facts"), ("destination", "dest_facts")],
            required_one_of=[("source", "source_facts"), ("destination", "dest_facts")],
        )
        try:
            from preflight.gather import external
            from preflight.model.facts import HostSnapshot
        except ImportError as exc:
            raise AnsibleActionFail("the migration-preflight package is not importable by the python running "
                                    f"ansible (install it beside ansible-core): {exc}") from None

        def snapshot(given: str, path: str, role: str) -> Any:
            try:
                if args[given] is not None:
                    return external.snapshot_from(args[given], role)
                return dataclasses.replace(HostSnapshot.load(Path(args[path])), role=role)  # bounded read
            except (OSError, ValueError) as exc:
                raise AnsibleActionFail(f"{given}: not a usable facts snapshot ({exc})") from None

        try:
            plan = external.plan_from(args["plan"])
        except ValueError as exc:
            raise AnsibleActionFail(f"plan: {exc}") from None
        src = snapshot("source", "source_facts", "source")
        dst = snapshot("destination", "dest_facts", "destination")
        try:
            judged = external.judge(plan, src, dst, args["select"], args["ignore"], args["fail_on"])
        except ValueError as exc:  # a select/ignore key naming no rule
            raise AnsibleActionFail(str(exc)) from None
        # what a person reads when the task fails: every finding that did not pass, not the 40 that did
        judged["findings"] = [f for f in judged["findings"] if f["status"] not in ("pass", "skip")]
        result.update({k: wrap_var(v) for k, v in judged.items()})
        result["changed"] = False
        if judged["verdict"] != "ready":
            result["failed"] = True
            result["msg"] = wrap_var(external.verdict_message(judged))
        else:
            n, uri = len(judged['migrate_commands']), judged['plan']['dest_uri']
            result['msg'] = wrap_var(f'READY: {n} guest(s) to {uri}')
        return result

