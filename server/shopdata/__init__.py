"""Whole shops: the deterministic demo generator and the τ²-bench retail format."""
