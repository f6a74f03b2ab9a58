"""
The Scrapy peer of the pmmp crawl (../shared/peers/pmmp/scrapy, run as its own run_scrapy.py runs it) as a
long-running crawler runs: a first window in a fresh process, then the measured window in the same process.
The bench does the same with moisson's crawl, so that both are compared past their start-up (imports,
connection pools, and for moisson V8's compilation of the hot code), as a backfill runs; the first window's
figures are printed too (the cold figures).

Prints one JSON line: {"warmup": {...}, "measured": {...}}, each with wall_s, requests and items.
"""
import argparse
import json
import os
import sys
import time

p = argparse.ArgumentParser()
p.add_argument('--peer-dir', required=True, help='the folder of pmmp_spider.py')
p.add_argument('--base', required=True)
p.add_argument('--warmup-from', required=True)
p.add_argument('--warmup-to', required=True)
p.add_argument('--from', dest='date_from', required=True)
p.add_argument('--to', dest='date_to', required=True)
p.add_argument('--dsn', required=True)
p.add_argument('--out', required=True)
p.add_argument('--concurrency', type=int, default=8, help='per domain (Scrapy default 8)')
a = p.parse_args()

sys.path.insert(0, a.peer_dir)
from scrapy.crawler import Crawler, CrawlerProcess  # noqa: E402

from pmmp_spider import PmmpSpider  # noqa: E402

# run_scrapy.py's settings, word for word; the warm-up window writes to a schema of its own.
SETTINGS = {
    'ITEM_PIPELINES': {'pmmp_spider.PgPipeline': 300},
    'PEER_DSN': a.dsn, 'PEER_SCHEMA': 'peer_scrapy',
    'ROBOTSTXT_OBEY': False, 'DOWNLOAD_DELAY': 0, 'AUTOTHROTTLE_ENABLED': False, 'RANDOMIZE_DOWNLOAD_DELAY': False,
    'CONCURRENT_REQUESTS': max(16, a.concurrency), 'CONCURRENT_REQUESTS_PER_DOMAIN': a.concurrency,
    'COOKIES_ENABLED': True, 'TELNETCONSOLE_ENABLED': False, 'LOG_LEVEL': 'WARNING',
    'USER_AGENT': 'peer-scrapy (+benchmark on a local replica)',
    'DOWNLOAD_TIMEOUT': 120, 'DOWNLOAD_MAXSIZE': 50 * 2**20, 'DOWNLOAD_WARNSIZE': 0,
}


windows = [
    ('warmup', a.warmup_from, a.warmup_to, 'peer_scrapy_warmup', os.path.join(a.out, 'warmup')),
    ('measured', a.date_from, a.date_to, 'peer_scrapy', os.path.join(a.out, 'measured')),
]
# The process's settings are the first window's: its crawler installs CrawlerProcess's reactor.
process = CrawlerProcess({**SETTINGS, 'PEER_SCHEMA': windows[0][3]})
report = {}
failure = []


def run(index):
    name, date_from, date_to, schema, out = windows[index]
    # The first crawler installs the reactor (CrawlerProcess's own); the next ones are made while it runs.
    crawler = process.create_crawler(PmmpSpider) if index == 0 else Crawler(PmmpSpider, {**SETTINGS, 'PEER_SCHEMA': schema})
    started = time.monotonic()
    done = process.crawl(crawler, base=a.base, date_from=date_from, date_to=date_to, out=out)

    def finished(_):
        st = crawler.stats.get_stats()
        report[name] = {'from': date_from, 'to': date_to, 'wall_s': round(time.monotonic() - started, 2),
                        'requests': st.get('downloader/request_count'), 'items': st.get('item_scraped_count'),
                        'status_200': st.get('downloader/response_status_count/200'), 'errors': st.get('log_count/ERROR', 0)}
        return run(index + 1) if index + 1 < len(windows) else None

    return done.addCallback(finished)


def stop(result):
    # The reactor CrawlerProcess installed, imported once it exists.
    from twisted.internet import reactor

    if hasattr(result, 'getTraceback'):
        failure.append(result.getTraceback())
    reactor.stop()


run(0).addBoth(stop)
process.start(stop_after_crawl=False)
if failure:
    sys.stderr.write(failure[0])
    sys.exit(1)
print(json.dumps({'peer': 'scrapy', 'concurrency': a.concurrency, **report}))
