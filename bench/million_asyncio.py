#!/usr/bin/env python3
"""million_asyncio.py - bench/bench_tasks.c in Python asyncio, for comparison.

million: N tasks each sleeping random.uniform(0, 1) s (seeded), all created
first, then gathered: wall time, peak RSS (ru_maxrss) and RSS per task.
throughput: trivial tasks created, run and completed in gathered batches
of 10,000 (tasks per second).
roundtrip: fut = loop.create_future(); loop.call_soon(fut.set_result, None);
await fut (ns per round).
Prints the same key=value lines as bench_tasks.
"""
import argparse
import asyncio
import random
import resource
import sys
import time

BATCH = 10000


def peak_rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def sleeper(seconds):
    await asyncio.sleep(seconds)


async def million(n, seed):
    rnd = random.Random(seed)
    base = peak_rss_kib()
    t0 = time.perf_counter()
    tasks = [asyncio.create_task(sleeper(rnd.uniform(0, 1))) for _ in range(n)]
    await asyncio.gather(*tasks)
    secs = time.perf_counter() - t0
    peak = peak_rss_kib()
    del tasks
    print(f"million.tasks={n}")
    print(f"million.wall_s={secs:.4f}")
    print(f"million.baseline_rss_kib={base}")
    print(f"million.peak_rss_kib={peak}")
    print(f"million.bytes_per_task={(peak - base) * 1024 / n:.1f}")


async def nothing():
    return None


async def throughput(m):
    t0 = time.perf_counter()
    done = 0
    while done < m:
        k = min(BATCH, m - done)
        await asyncio.gather(*[asyncio.create_task(nothing()) for _ in range(k)])
        done += k
    secs = time.perf_counter() - t0
    print(f"throughput.tasks={m}")
    print(f"throughput.tasks_per_s={m / secs:.0f}")


async def roundtrip(r):
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    for _ in range(r):
        fut = loop.create_future()
        loop.call_soon(fut.set_result, None)
        await fut
    secs = time.perf_counter() - t0
    print(f"roundtrip.rounds={r}")
    print(f"roundtrip.ns={secs * 1e9 / r:.1f}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", type=int, default=1000000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--throughput", type=int, default=200000)
    p.add_argument("--roundtrips", type=int, default=200000)
    a = p.parse_args()
    if min(a.tasks, a.throughput, a.roundtrips) < 1:
        p.error("counts must be at least 1")
    print(f"million_asyncio: python={sys.version.split()[0]} seed={a.seed}")
    asyncio.run(million(a.tasks, a.seed))
    asyncio.run(throughput(a.throughput))
    asyncio.run(roundtrip(a.roundtrips))


if __name__ == "__main__":
    main()
