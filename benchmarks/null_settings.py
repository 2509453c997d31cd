"""The null spider's own settings: Scrapy's defaults and nothing of the project's.

The reference of the crawl row is a plain Scrapy spider that downloads what ``rfi_cn``
downloads and keeps nothing: no WARC capture, no pipelines, no project middlewares or
extensions (issue 26: with the project's settings it wrote WARC files too). What it
shares with the crawl comes on its command line: robots.txt obeyed, the concurrency, the
start points, the stats collector that writes the final stats as JSON.
"""

BOT_NAME = "null"
ROBOTSTXT_OBEY = True
LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
