#!/usr/bin/python
# Copyright: migration-preflight contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the preflight_check action; the work is done by plugins/action/preflight_check.py."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: preflight_check
short_description: Judge a KVM live migration from two migration-preflight snapshots; fail unless READY
version_added: "0.1.0"
description:
  - Runs migration-preflight's engine (every rule of C(preflight check), or a selection) on the
    controller over the source's and the destination's snapshots, gathered by
    M(kvmops.migration_preflight.preflight_gather) or saved by C(preflight check --save-facts DIR)
    (C(DIR/source.json), C(DIR/destination.json)) or C(preflight facts).
  - The task fails when the verdict is NOT READY (a blocking rule fails) or UNKNOWN (a blocking fact
    could not be seen, a host was unreachable); C(msg) names each blocking rule, its host and message.
  - Runs nothing on any host. Requires the migration-preflight python package on the controller.
options:
  source:
    description: The source's snapshot (its C(preflight_snapshot) fact).
    type: dict
  destination:
    description: The destination's snapshot.
    type: dict
  source_facts:
    description: A saved source snapshot file (JSON), instead of O(source).
    type: path
  dest_facts:
    description: A saved destination snapshot file (JSON), instead of O(destination).
    type: path
  plan:
    description: The planned migration; the same keys as M(kvmops.migration_preflight.preflight_gather)'s.
    type: dict
    required: true
  select:
    description: Rule ids, prefixes or slugs to judge (as C(--select)); empty is every rule.
    type: list
    elements: str
    default: []
  ignore:
    description: Rule ids, prefixes or slugs left out (as C(--ignore)).
    type: list
    elements: str
    default: []
  fail_on:
    description: As C(--fail-on) - C(warning) also gates on failing warnings, C(unknown) on unknown warnings.
    type: str
    default: error
    choices: [error, warning, unknown]
notes:
  - Run it once (C(run_once=true)) or on the controller (C(delegate_to=localhost)); it only reads its arguments.
seealso:
  - module: kvmops.migration_preflight.preflight_gather
author:
  - migration-preflight contributors
"""

EXAMPLES = r"""
- name: Judge host1 -> host2
  kvmops.migration_preflight.preflight_check:
    source: "{{ hostvars['host1'].preflight_snapshot }}"
    destination: "{{ hostvars['host2'].preflight_snapshot }}"
    plan: {dest_uri: "qemu+ssh://host2/system", all_running: true, live: true}
  run_once: true
  register: verdict

- name: Judge snapshots saved by preflight check --save-facts
  kvmops.migration_preflight.preflight_check:
    source_facts: facts/source.json
    dest_facts: facts/destination.json
    plan: {dest_uri: "qemu+ssh://host2/system", guests: [web1], live: true}
  delegate_to: localhost
"""

RETURN = r"""
verdict:
  description: C(ready), C(not-ready) or C(unknown).
  type: str
  returned: always
exit_code:
  description: What C(preflight check) would exit with (0 READY, 1 NOT READY, 3 UNKNOWN).
  type: int
  returned: always
findings:
  description:
    - Every finding that did not pass or skip (fail, unknown), as C(preflight check --format json)
      prints it (control characters escaped).
  type: list
  elements: dict
  returned: always
failing_rules:
  description: Rules whose failure makes the pair NOT READY.
  type: list
  elements: str
  returned: always
unknown_rules:
  description: Blocking rules that could not be judged.
  type: list
  elements: str
  returned: always
migrate_commands:
  description: One C(virsh migrate) command per planned guest, shell-quoted; empty unless READY.
  type: list
  elements: str
  returned: always
plan:
  description: The plan judged.
  type: dict
  returned: always
hosts:
  description: Each role's spec, mode and reachability.
  type: dict
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402 - after the docs, as Ansible lays modules out


def main() -> None:
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    module.fail_json(msg="preflight_check runs as an action plugin on the controller; the collection's "
                         "action plugin was not found")


if __name__ == "__main__":
    main()
