"""Side-by-side benchmarks of the provider against its baselines: ``python bench/run.py [--quick]``."""

from __future__ import annotations
