"""Benchmarks (not tests): they print tables and write JSON under bench/results/."""
