"""Quality: the item schema, monitors, the crawl summary, the QA report."""
