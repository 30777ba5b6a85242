"""Benchmarks: Mutual measured against a floor served by the same app and server."""
