"""The README as a front page and the manual in docs/: what CI and readers rely on.

CI runs "the README's test command" (``.ci/run``), so the README must keep exactly that
command where a reader finds it; the front page links into docs/, which the strict MkDocs
build does not see (the README is outside the site), so its links are checked here; and every
``RFI_*`` setting must be described somewhere in the manual, not only in ``settings.py``.
The manual's own links, anchors and nav are the strict build's job (``mkdocs build --strict``
in ``.ci/run``).
"""

from __future__ import annotations

import re
from pathlib import Path

from rfi_spider import settings

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CI = ROOT / ".ci" / "run"

# Settings that are not for a user to set: said so in settings.py.
# set by -a from_warc=, "not by hand"
NOT_FOR_USERS = {"RFI_WARC_REPLAY", "RFI_WARC_REPLAY_SITE", "RFI_WARC_REPLAY_HOSTS"}


def shell_blocks(text: str) -> list[list[str]]:
    """The command lines of each ```sh block, in order."""
    blocks = re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S)
    return [[line for line in block.splitlines() if line.strip()] for block in blocks]


def section(text: str, heading: str) -> str:
    """A '## heading' section of a Markdown page, up to the next '## '."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_readme_is_a_front_page() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 200


def test_quick_start_is_install_then_crawl() -> None:
    quick = section(README.read_text(encoding="utf-8"), "Quick start")
    [commands] = shell_blocks(quick)
    clone, install, crawl = (line.split("#")[0].strip() for line in commands)
    assert clone.startswith("git clone ")
    assert install == "python3 -m pip install -r requirements.txt"
    assert crawl == "scrapy crawl rfi_cn"


def test_demo_is_on_the_front_page() -> None:
    demo = section(README.read_text(encoding="utf-8"), "The offline demo")
    [commands] = shell_blocks(demo)
    assert commands[0] == "scrapy crawl rfi_cn -a demo=1"


def test_ci_runs_the_readme_test_command() -> None:
    tests = section(README.read_text(encoding="utf-8"), "The tests")
    [[command]] = shell_blocks(tests)
    ci = CI.read_text(encoding="utf-8").splitlines()
    marker = ci.index("# The README's test command:")
    assert ci[marker + 1] == command == "python -m pytest"


def test_readme_links_point_at_files() -> None:
    links = re.findall(r"\]\(([^)]+)\)", README.read_text(encoding="utf-8"))
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert "docs/crawling.md" in local
    missing = [link for link in local if not (ROOT / link.split("#")[0]).exists()]
    assert missing == []


def test_every_setting_is_in_the_manual() -> None:
    manual = "\n".join(page.read_text(encoding="utf-8") for page in DOCS.glob("*.md"))
    names = {name for name in vars(settings) if name.startswith("RFI_")} - NOT_FOR_USERS
    assert len(names) > 50
    undocumented = sorted(n for n in names if not re.search(rf"\b{n}\b", manual))
    assert undocumented == []
