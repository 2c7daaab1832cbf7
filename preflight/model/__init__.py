"""Typed data that flows through the pipeline: plan -> snapshots -> findings."""
