"""Reading and searching the archive: the SQLite database (``archive.db``), Chinese
full-text search over it, and the Datasette browser (``scrapy browse``)."""
