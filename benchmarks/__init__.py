"""Benchmarks (not timed tests): `python -m benchmarks.bench_check` — see benchmarks/RESULTS.md."""
