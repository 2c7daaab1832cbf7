"""`preflight evacuate SOURCE --to DEST ...`: where every running guest of SOURCE can go, and in which waves.

The hosts are gathered once (preflight.fleet.run's gather); everything after is offline and pure:
judge (each guest on each destination, with the engine of `check`), placement (memory), waves
(each destination's concurrency limits), render (text and JSON).
"""
