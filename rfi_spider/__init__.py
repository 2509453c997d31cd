"""rfi-spider: archives RFI's Chinese news (www.rfi.fr/cn and /tw)."""

__version__ = "0.1.0"  # keep in step with setup.py and pyproject.toml
