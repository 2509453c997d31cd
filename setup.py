"""Packaging for Scrapyd: ``scrapyd-deploy`` builds the project's egg from this file.

The egg must hold everything a crawl reads at run time. Code reads those files
with ``importlib.resources`` (inside an egg there is no file path), and every
file under ``rfi_spider/`` that is not Python source goes in: the sample site,
and any schema or data file added later, without a change here.
"""

from setuptools import find_packages, setup

setup(
    name="rfi-spider",
    version="0.1.0",
    description="A Scrapy project that archives RFI's Chinese-language news (rfi.fr/cn)",
    python_requires=">=3.11",
    packages=find_packages(include=["rfi_spider", "rfi_spider.*"]),
    package_data={"rfi_spider": ["**/*"]},
    exclude_package_data={"": ["*.py[cod]", "__pycache__", "__pycache__/*"]},
    entry_points={"scrapy": ["settings = rfi_spider.settings"]},
    zip_safe=True,
)
