"""Reading and searching the archive: the Datasette browser (``scrapy browse``) over
``archive.db``, whose Chinese words and queries are archive's (``archive/database_words.py``)."""
