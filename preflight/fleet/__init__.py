"""`preflight fleet`: an Ansible inventory gathered once per host, every pair inside a group judged offline.

inventory (INI and YAML, as Ansible reads them) -> patterns (--limit) -> hosts (specs, validated)
-> run (each host gathered once, bounded parallelism) -> judge (pairs from snapshots) -> matrix (text, JSON).
"""
