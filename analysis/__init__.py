"""Weighting, estimation, scoring and reports: pure functions on DataFrames and files."""
__version__ = "0.1.0"
