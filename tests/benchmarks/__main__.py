"""`make bench`: every benchmark, peers side by side in the same run."""

from tests.benchmarks import bench_alerts, bench_analytics, bench_ledger, bench_optimize, bench_seed, bench_startup

for bench in (bench_seed, bench_startup, bench_ledger, bench_analytics, bench_optimize, bench_alerts):
    print(f"== {bench.__name__.rsplit('.', 1)[-1]}", flush=True)
    bench.main()
