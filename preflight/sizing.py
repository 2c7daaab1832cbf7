"""How big a limit must be for N concurrent migrations (shared by rules and fixes).

Margins are stated so a user can check the arithmetic:
- libvirt: one client slot per migration on each side (the seed), plus the
  clients already connected, plus ``CLIENT_MARGIN`` for virsh/monitoring.
- sshd: one unauthenticated connection per ssh migration at once, plus
  ``SSH_MARGIN`` for an operator's own logins during the window.
"""

from __future__ import annotations

CLIENT_MARGIN = 5
SSH_MARGIN = 2
# The seed warns that a high MaxStartups defeats its DoS protection; fixes never go beyond this.
MAX_STARTUPS_CAP = 100


def client_slots_needed(n: int, current: int = 0) -> int:
    """Slots that must be free on one side for n migrations at once (measured: one per side)."""
    return n + current


def seed_slots_needed(n: int) -> int:
    """The seed's count: 2 per migration ("max_clients 20 allows 10 migrations")."""
    return 2 * n


def recommended_max_clients(n: int, current: int = 0) -> int:
    """Serves n migrations by the seed's count and by the measured one, plus the margin.

    >>> recommended_max_clients(12)
    29
    """
    return max(seed_slots_needed(n), client_slots_needed(n, current)) + CLIENT_MARGIN


def recommended_max_startups_start(n: int) -> int:
    """Start value for n concurrent ssh migrations plus the margin.

    >>> recommended_max_startups_start(12)
    14
    """
    return n + SSH_MARGIN


def format_max_startups(start: int, rate: int, full: int) -> str:
    """Always the three-part form: a lone N would keep an earlier line's rate (measured, 9.2)."""
    return f"{start}:{rate}:{full}"


# CIS benchmarks for OpenSSH ask for "MaxStartups 10:30:60 or more restrictive".
CIS_MAX_STARTUPS = (10, 30, 60)


def explain_max_clients(n: int, current: int = 0) -> str:
    """The arithmetic behind :func:`recommended_max_clients`, for a fix's reasoning.

    >>> explain_max_clients(12)
    'max(2 x 12 (the RHEL guide: one slot on each side), 12 + 0 connected (measured)) + margin 5 = 29'
    """
    return (f"max(2 x {n} (the RHEL guide: one slot on each side), {n} + {current} connected (measured)) "
            f"+ margin {CLIENT_MARGIN} = {recommended_max_clients(n, current)}")


def max_startups_start_within(n: int, cap: int = MAX_STARTUPS_CAP) -> int | None:
    """The start value for n ssh migrations not beyond ``cap``; the margin shrinks first.

    None when even n alone does not fit under the cap.

    >>> max_startups_start_within(12), max_startups_start_within(9, cap=10), max_startups_start_within(12, cap=10)
    (14, 10, None)
    """
    start = min(recommended_max_startups_start(n), cap)
    return start if start >= n else None
