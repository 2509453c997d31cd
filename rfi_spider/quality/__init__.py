"""Quality: monitors, the crawl summary, the QA report (the item schema is the core's:
``rfi_spider/item_schema.py``)."""
