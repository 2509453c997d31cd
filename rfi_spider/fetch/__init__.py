"""Fetching: blocked pages, back-off, challenge detection, the browser, politeness, page bytes,
and the WARC capture and replay (the WARC files themselves are archive's)."""
