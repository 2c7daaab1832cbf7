"""`preflight fix`: corrected libvirt daemon config, sshd_config and /etc/hosts for a planned migration.

Pipeline: the check's findings (preflight.engine) -> per-file fixers (libvirt, sshd, hosts) that edit
the gathered texts through Augeas or render a template -> validation (re-parse, sshd -t, the rules
re-run on the patched facts) -> diffs, an output tree, or atomic in-place writes.
"""
