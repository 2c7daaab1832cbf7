"""migration-preflight: will `virsh migrate --live` work between these two hosts?"""

__version__ = "0.1.0"
