"""Helpers shared by the tests and the benchmarks: real services and real sessions."""
