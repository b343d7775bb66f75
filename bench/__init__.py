"""kefu's benchmarks: intent classification on public datasets (bench.run), metric queries over a year of history
(bench.metrics), load on real `kefu serve` processes (bench.loadtest), and the report gathering them (bench.report).

Run with `make bench`. Datasets are read from $KEFU_DATASETS or ../shared/datasets next to the repository; nothing
from them is copied into the repository.
"""
