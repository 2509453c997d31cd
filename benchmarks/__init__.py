"""Benchmarks of rfi-spider against its limits: ``python -m benchmarks`` (see BENCHMARKS.md)."""
