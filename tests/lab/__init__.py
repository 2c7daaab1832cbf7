"""The two-host namespace lab: real sshd, libvirtd and QEMU per host, real live migrations."""

from .files import ADDRS, HOSTS, LOCAL_DIR, SHARED_DIR
from .lab import DEFAULT_DIR, Lab, LabError, MigrationOutcome, missing_prerequisites

__all__ = ["ADDRS", "DEFAULT_DIR", "HOSTS", "LOCAL_DIR", "SHARED_DIR", "Lab", "LabError",
           "MigrationOutcome", "missing_prerequisites"]
