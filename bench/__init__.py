"""Benchmarks: each prints medians and ratios and writes a Markdown table for the README."""
