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
