"""Benchmarks: they print numbers and ratios; nothing here asserts a time."""
