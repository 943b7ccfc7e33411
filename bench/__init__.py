"""Benchmarks that print figures (no assertions)."""
