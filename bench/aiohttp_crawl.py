"""aiohttp_crawl - the asyncio peer of bench_crawl: a breadth-first crawl of one
site with aiohttp, a fixed pool of worker tasks and regexp link extraction.

    python3 bench/aiohttp_crawl.py URL [CONCURRENCY]

Follows links on the seed's host only, each URL once (fragment dropped), and
prints "pages N" (responses with status 200) when the queue is empty.
"""
import asyncio
import re
import sys
from urllib.parse import urldefrag, urljoin, urlsplit

import aiohttp

HREF = re.compile(rb"""<a\s[^>]*?href\s*=\s*["']([^"'#]*)""", re.I)


async def crawl(seed, workers):
    host = urlsplit(seed).netloc
    queue = asyncio.Queue()
    seen = {seed}
    counts = {"pages": 0, "errors": 0}
    queue.put_nowait(seed)

    async def worker(session):
        while True:
            url = await queue.get()
            try:
                async with session.get(url) as resp:
                    body = await resp.read()
                    ok = resp.status == 200
                if ok:
                    counts["pages"] += 1
                    for m in HREF.finditer(body):
                        link = urldefrag(urljoin(url, m.group(1).decode("utf-8", "replace")))[0]
                        if urlsplit(link).netloc == host and link not in seen:
                            seen.add(link)
                            queue.put_nowait(link)
                else:
                    counts["errors"] += 1
            except aiohttp.ClientError:
                counts["errors"] += 1
            finally:
                queue.task_done()

    conn = aiohttp.TCPConnector(limit=workers, limit_per_host=workers)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout,
                                     auto_decompress=False) as session:
        tasks = [asyncio.create_task(worker(session)) for _ in range(workers)]
        await queue.join()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print("errors", counts["errors"])
    print("pages", counts["pages"])


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: aiohttp_crawl.py URL [CONCURRENCY]")
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    asyncio.run(crawl(sys.argv[1], workers))


if __name__ == "__main__":
    main()
