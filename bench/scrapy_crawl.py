"""scrapy_crawl - the Scrapy peer of bench_crawl: a whole-site crawl.

    python3 -m scrapy runspider bench/scrapy_crawl.py -a start=URL \
        -s CONCURRENT_REQUESTS=64 -s CONCURRENT_REQUESTS_PER_DOMAIN=64

Follows every link on the seed's host (Scrapy's own duplicate filter and
off-site filter), extracting links with Scrapy's selectors, and prints
"pages N" (responses with status 200) when the spider closes.
"""
from urllib.parse import urlsplit

import scrapy


class SiteSpider(scrapy.Spider):
    name = "site"
    custom_settings = {
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": False,
        "RETRY_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "ERROR",
        "DEPTH_LIMIT": 0,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "CONCURRENT_REQUESTS_PER_IP": 0,
        "HTTPCACHE_ENABLED": False,
    }

    def __init__(self, start=None, **kw):
        super().__init__(**kw)
        self.start_urls = [start]
        self.allowed_domains = [urlsplit(start).hostname]
        self.pages = 0

    def start_requests(self):
        # Through the duplicate filter (Scrapy's default start request skips
        # it), so that a link back to the seed does not fetch it again.
        for url in self.start_urls:
            yield scrapy.Request(url)

    def parse(self, response):
        if response.status == 200:
            self.pages += 1
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, callback=self.parse)

    def closed(self, reason):
        print("pages", self.pages, flush=True)
