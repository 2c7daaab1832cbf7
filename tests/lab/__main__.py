"""python -m tests.lab [--hosts 2|3] up | down | reset | status | exec HOST -- CMD...  (state in $PREFLIGHT_LAB_DIR)"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .files import HOSTS, HOSTS3
from .lab import Lab, LabError, clean_env


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__)
    ap.add_argument("--hosts", type=int, choices=(2, 3), default=2, help="two hosts, or three joined by a bridge")
    sub = ap.add_subparsers(dest="action", required=True)
    for name in ("up", "down", "reset", "status"):
        sub.add_parser(name)
    ex = sub.add_parser("exec", help="run CMD inside HOST (interactive shell without CMD)")
    ex.add_argument("host")
    ex.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    lab = Lab(hosts=HOSTS3 if args.hosts == 3 else HOSTS)
    try:
        if args.action == "exec":
            cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
            if len(cmd) == 1 and " " in cmd[0]:  # exec host1 -- "virsh list; ip a"
                cmd = ["/bin/sh", "-c", cmd[0]]
            cmd = cmd or ["/bin/bash", "-l"]
            argv_in = lab.enter_argv(args.host, cmd)
            os.execvpe(argv_in[0], argv_in, clean_env(term=True))
        elif args.action == "status":
            print(json.dumps({"up": lab.is_up(), "state_dir": str(lab.dir), "hosts": lab.status()}, indent=2))
            return 0 if lab.is_up() else 1
        else:
            getattr(lab, args.action)()
            print(f"{args.action}: {lab.timings.get(args.action, 0):.2f} s")
    except (LabError, ValueError) as e:
        print(f"lab: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
