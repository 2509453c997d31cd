"""Crawl control: canonical URLs, dupefilter, job directory, URL sets."""
