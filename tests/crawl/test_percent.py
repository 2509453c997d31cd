"""The URL paths' percent-decoding gives what ``urllib.parse.unquote`` gives."""

from __future__ import annotations

from urllib.parse import quote
from urllib.parse import unquote as urllib_unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from rfi_spider.percent import unquote

# What matters to the decoding: escapes of any byte (valid UTF-8 or not, either case of
# hex digit), lone or broken ``%``, ASCII, non-ASCII text and lone surrogates.
_PIECES = st.one_of(
    st.integers(0, 255).map(lambda byte: f"%{byte:02X}"),
    st.integers(0, 255).map(lambda byte: f"%{byte:02x}"),
    st.sampled_from(["%", "%%", "%G1", "%4", "%e6%b8", "%E6%B8%AF", "/", "-", "a", "0"]),
    st.text(max_size=3),
    st.text(max_size=3).map(quote),
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_same_as_urllib(text: str) -> None:
    assert unquote(text) == urllib_unquote(text)


def test_an_article_path_is_decoded() -> None:
    path = "/cn/%E6%B8%AF%E6%BE%B3%E5%8F%B0/20240306-%E6%B8%AF%E5%BA%9C-5"
    assert unquote(path) == "/cn/港澳台/20240306-港府-5"


def test_broken_escapes_are_kept_or_replaced_as_urllib_does() -> None:
    assert unquote("/a%zz/%E6%B8/b%") == "/a%zz/\ufffd/b%"
    assert unquote("no escape") == "no escape"
