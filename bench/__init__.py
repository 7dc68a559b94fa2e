"""Benchmarks (`make bench`): each prints what it measured on this machine beside a baseline
measured in the same run."""
