import os, signal, time
from .lab import Lab

def test_fails(lab: Lab) -> None:
    lab.define_guest("host1", "g1", disk=("shared", "g1.qcow2"))
    assert False, "intentional"

def test_sigterm(lab: Lab) -> None:
    if os.environ.get("ZZ_TERM"):
        lab.define_guest("host1", "g1")
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
