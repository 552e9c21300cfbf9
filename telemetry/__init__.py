"""Metrics every layer may record (a leaf package: it imports nothing of the hub's)."""
