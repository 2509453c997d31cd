"""Extraction: selectors, the page view, body and listing readers, loaders, text processors."""
