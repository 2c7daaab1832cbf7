#!/usr/bin/python
# Copyright: migration-preflight contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the preflight_gather action; the work is done by plugins/action/preflight_gather.py."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: preflight_gather
short_description: Gather a KVM host's migration-preflight facts snapshot through Ansible's connection
version_added: "0.1.0"
description:
  - Runs migration-preflight's gather script (POSIX sh; no python needed on the host) on the host through
    Ansible's own connection (inventory, connection plugin, ssh arguments, C(become), forks), parses its
    output on the controller into a preflight HostSnapshot and returns it as a fact.
  - libvirt facts are read on the controller over a read-only connection. For C(ansible_connection=local)
    that is C(qemu:///system); for ssh it is C(qemu+ssh://USER@HOST:PORT/system) built from the
    connection's address, user and port (validated; host keys verified), through the controller's own
    ssh client configuration (C(~/.ssh/config), agent), not Ansible's C(ansible_ssh_private_key_file) or
    C(ansible_ssh_common_args). When it cannot be opened, or for other connection types, the snapshot
    records why and every rule that needs libvirt is UNKNOWN (never READY).
  - The source of a migration resolves the destination's names and examines its own planned guests'
    disks; a destination examines the source's guests' disk paths and emulators (pass the source's
    snapshot as O(peer)). A second run on the source with O(update=true) and the destination's snapshot
    as O(peer) resolves the names only the destination's facts reveal (its libvirt hostname).
  - Requires the migration-preflight python package importable by the python that runs ansible-core.
options:
  role:
    description: This host's role in the migration.
    type: str
    required: true
    choices: [source, destination]
  plan:
    description:
      - The planned migration, as C(virsh migrate) would be run. Keys C(dest_uri) (required),
        C(guests) (list) or C(all_running=true), C(concurrency), C(migrate_uri), and the flags
        C(live), C(p2p), C(tunnelled), C(copy_storage_all), C(copy_storage_inc), C(unsafe),
        C(offline), C(tls) (booleans).
    type: dict
    required: true
  peer:
    description:
      - The other host's snapshot (its C(preflight_snapshot) fact). Required for O(role=destination)
        (the source's snapshot); for O(role=source) the destination's, whose names are resolved here.
    type: dict
  update:
    description:
      - With O(role=source) and the destination's snapshot as O(peer), add a names-only run to this
        host's existing snapshot fact instead of gathering afresh.
    type: bool
    default: false
  libvirt:
    description: Read libvirt facts (false records libvirt as not gathered; its rules are then UNKNOWN).
    type: bool
    default: true
  libvirt_timeout:
    description: Seconds to wait for the read-only libvirt connection and its answers.
    type: float
    default: 30.0
  command_timeout:
    description: Bound in seconds of each command the script runs on the host.
    type: int
    default: 10
  fact_name:
    description: Name of the fact the snapshot is returned in.
    type: str
    default: preflight_snapshot
notes:
  - Read-only; supports check mode. Use the task's C(timeout) keyword to bound the whole run.
  - Gather facts (C(gather_facts)) is not needed and needs python on the host; this module does not.
seealso:
  - module: kvmops.migration_preflight.preflight_check
author:
  - migration-preflight contributors
"""

EXAMPLES = r"""
- name: Gather the source (its running guests, the destination's names)
  kvmops.migration_preflight.preflight_gather:
    role: source
    plan: {dest_uri: "qemu+ssh://host2/system", all_running: true, live: true}

- name: Gather the destination (the source's guests' disks and emulators)
  kvmops.migration_preflight.preflight_gather:
    role: destination
    plan: {dest_uri: "qemu+ssh://host2/system", all_running: true, live: true}
    peer: "{{ hostvars['host1'].preflight_snapshot }}"

- name: Resolve on the source the names the destination revealed
  kvmops.migration_preflight.preflight_gather:
    role: source
    update: true
    plan: {dest_uri: "qemu+ssh://host2/system", all_running: true, live: true}
    peer: "{{ hostvars['host2'].preflight_snapshot }}"
"""

RETURN = r"""
ansible_facts:
  description: The snapshot, under O(fact_name).
  returned: always
  type: dict
  contains:
    preflight_snapshot:
      description: The host's HostSnapshot as JSON (the format of C(preflight facts -o FILE)).
      type: dict
      returned: always
probes_ok:
  description: How many probes answered.
  type: int
  returned: always
probes:
  description: How many probes were asked.
  type: int
  returned: always
libvirt_status:
  description: C(ok) or C(error) (not opened, or switched off with O(libvirt=false); the reason in RV(libvirt_error)).
  type: str
  returned: always
libvirt_error:
  description: Why libvirt facts are missing, when they are.
  type: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402 - after the docs, as Ansible lays modules out


def main() -> None:
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    module.fail_json(msg="preflight_gather runs as an action plugin on the controller; the collection's "
                         "action plugin was not found")


if __name__ == "__main__":
    main()
