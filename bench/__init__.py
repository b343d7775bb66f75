"""Benchmarks of kefu's understanding (accuracy, out-of-scope rejection, throughput) on public datasets.

Run with `make bench` (python -m bench.run --out bench/REPORT.md). Datasets are read from $KEFU_DATASETS or
../shared/datasets next to the repository; nothing from them is copied into the repository.
"""
