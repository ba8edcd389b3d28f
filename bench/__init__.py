"""Benchmarks: a load generator, a data generator, measurements and their results."""
