"""Fetching: blocked pages, back-off, challenge detection, the browser, politeness, page bytes."""
