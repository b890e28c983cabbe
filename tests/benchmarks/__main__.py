"""`make bench`: every benchmark, peers side by side in the same run."""

from tests.benchmarks import (
    bench_alert_push,
    bench_alerts,
    bench_analytics,
    bench_ledger,
    bench_optimize,
    bench_rebalance,
    bench_reports,
    bench_seed,
    bench_startup,
)

BENCHES = (
    bench_seed,
    bench_startup,
    bench_ledger,
    bench_analytics,
    bench_optimize,
    bench_alerts,
    bench_alert_push,
    bench_reports,
    bench_rebalance,
)
for bench in BENCHES:
    print(f"== {bench.__name__.rsplit('.', 1)[-1]}", flush=True)
    bench.main()
