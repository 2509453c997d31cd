"""The body walker: paragraphs and clean HTML from small snippets."""

from __future__ import annotations

import pytest
from lxml.html import fragment_fromstring

from rfi_spider.extract.body import extract_body

BASE = "https://www.rfi.fr/cn/国际/20240307-x"


def body(html: str):
    return extract_body(fragment_fromstring(html, create_parent="div"), BASE)


def test_blocks_in_document_order() -> None:
    result = body(
        "<p>一</p><h2>二</h2><div><p>三</p><h3>四</h3></div><ul><li>五</li></ul><h4>六</h4>"
    )
    assert result.paragraphs == ["一", "二", "三", "四", "五", "六"]
    assert result.html == "<p>一</p><h2>二</h2><p>三</p><h3>四</h3><ul><li>五</li></ul><h4>六</h4>"


@pytest.mark.parametrize(
    "skipped",
    [
        '<div class="o-self-promo" data-selfpromo-newsletter><p>订阅</p></div>',
        '<div class="m-interstitial"><p>阅读更多</p><div class="m-block-ad">ad</div></div>',
        '<div class="m-block-ad"><p>广告</p></div>',
        "<figure><img src=a.jpg><figcaption><p>图片说明</p></figcaption></figure>",
        "<script>var x = '<p>脚本</p>';</script>",
        "<style>p { color: red }</style>",
        "<noscript><p>请启用</p></noscript>",
        '<iframe src="https://evil.example"></iframe>',
        "<aside><p>相关</p></aside>",
        '<form action="/x"><p><input name="q">搜索</p></form>',
        "<svg><text>图标</text></svg>",
    ],
)
def test_what_is_not_the_article_is_skipped(skipped: str) -> None:
    result = body(f"<p>正文</p>{skipped}<p>结尾</p>")
    assert result.paragraphs == ["正文", "结尾"]
    assert result.html == "<p>正文</p><p>结尾</p>"


def test_blockquote_and_li_with_inner_p_give_way() -> None:
    result = body(
        "<blockquote><p>一</p><p>二</p></blockquote><blockquote>三</blockquote>"
        "<ul><li><p>四</p></li></ul>"
    )
    assert result.paragraphs == ["一", "二", "三", "四"]


def test_nested_lists_give_one_entry_per_item() -> None:
    assert body("<ul><li>甲<ul><li>乙</li></ul></li></ul>").paragraphs == ["甲", "乙"]


def test_inline_markup_and_line_breaks() -> None:
    result = body("<p>甲<br>乙 <b>粗</b>\n丙 <em>x</em> y</p><p>one<br>two</p>")
    assert result.paragraphs == ["甲乙 粗丙 x y", "one two"]
    assert result.html == "<p>甲<br>乙 <b>粗</b>丙 <em>x</em> y</p><p>one<br>two</p>"


def test_cjk_line_break_across_inline_tags() -> None:
    assert body("<p>中\n<strong>文</strong></p>").html == "<p>中<strong>文</strong></p>"


def test_attributes_and_links() -> None:
    result = body(
        '<p class="x" onclick="steal()" style="color:red">看 <a href="/cn/中国/" '
        'onmouseover="x()">这里</a> <a href="javascript:alert(1)">坏</a> '
        '<a href="mailto:a@b">信</a> <a href="https://example.org/a?b=1&amp;c=2">外</a></p>'
    )
    assert result.html == (
        '<p>看 <a href="https://www.rfi.fr/cn/%E4%B8%AD%E5%9B%BD/">这里</a> 坏 信 '
        '<a href="https://example.org/a?b=1&amp;c=2">外</a></p>'
    )
    assert "onclick" not in result.html and "javascript" not in result.html


def test_text_is_escaped_and_empty_elements_dropped() -> None:
    result = body(
        "<p>a &lt;script&gt; &amp; b</p><p> </p><p><strong> </strong></p><ul><li></li></ul>"
    )
    assert result.paragraphs == ["a <script> & b"]
    assert result.html == "<p>a &lt;script&gt; &amp; b</p>"


def test_unknown_wrappers_are_unwrapped() -> None:
    result = body("<section><div><span>前</span><p>段<span>落</span></p></div></section>")
    assert result.paragraphs == ["段落"]
    assert result.html == "前<p>段落</p>"


def test_empty_body() -> None:
    assert extract_body(None, BASE).paragraphs == []
    assert body("").html == ""


def test_paragraph_of_line_breaks_only_is_empty() -> None:
    result = body("<p>前</p><p><br></p><p> <br> </p><p>后</p>")
    assert result.paragraphs == ["前", "后"]
    assert result.html == "<p>前</p><p>后</p>"


def test_captions_typed_under_embeds_are_not_text() -> None:
    result = body(
        '<p>一</p><div class="m-em-image"><figure><img src="a.jpg"></figure></div>'
        '<p class="rtecenter"><em><span style="font-size:smaller">图说</span></em></p>'
        '<div class="m-em-flash"><iframe src="https://v"></iframe></div>'
        "<p><small><em>视频说明</em></small></p><p><small>来源</small></p>"
        "<figcaption>孤立的说明</figcaption><p>二</p>"
        '<p class="rtecenter"><em>居中斜体，但前面不是嵌入</em></p>'
        '<figure><img src="b.jpg"></figure><p><em>斜体但不居中</em></p>'
    )
    assert result.paragraphs == ["一", "二", "居中斜体，但前面不是嵌入", "斜体但不居中"]


def test_teasers_are_dropped_text_with_links_stays() -> None:
    result = body(
        '<p class="a-read-more"><span class="a-read-more__label">延伸阅读</span>'
        '<a class="a-read-more__link" href="/cn/a">标题</a></p>'
        '<p><strong>&gt;&gt; 延伸阅读：<a href="/cn/b">乙</a></strong></p>'
        '<p><b><a href="/cn/c">丙</a></b></p><p>阅读更多：<a href="/cn/d">丁</a></p>'
        '<p><strong>&gt;&gt; READ ON: <a href="/en/e">e</a></strong></p>'
        '<p><strong>粗体问题？</strong></p><p>正文<a href="/cn/f">链接</a>。</p>'
        '<p><a href="https://un.org">联合国网站</a></p>'
    )
    assert result.paragraphs == ["粗体问题？", "正文链接。", "联合国网站"]


def test_lead_is_taken_only_when_asked_and_only_at_the_start() -> None:
    html = "<p> </p><p><strong>导语</strong></p><p>正文</p><p><strong>小标题</strong></p>"
    taken = extract_body(fragment_fromstring(html, create_parent="div"), BASE, take_lead=True)
    assert taken.lead == "导语"
    assert taken.paragraphs == ["正文", "小标题"]
    assert "导语" not in taken.html
    assert body(html).lead is None and body(html).paragraphs == ["导语", "正文", "小标题"]
    late = "<p>正文</p><p><strong>小标题</strong></p>"
    assert extract_body(fragment_fromstring(late, create_parent="div"), BASE, True).lead is None


EMBED = '<div class="m-em-image"><figure><img src="a.jpg"></figure></div>'


@pytest.mark.parametrize(
    "caption",
    [
        '<p>&nbsp;</p><p><br></p><p><em><span style="font-size:smaller">图说</span></em></p>',
        '<p><p><span style="font-size:smaller"><em>图说</em></span></p></p>',
        '<p class="rtecenter"><p><em>图说</em></p></p>',  # the centring left on the empty <p>
        '<p>\u200b</p><p style="text-align: center"><em>图说</em></p>',
        '<em><span style="font-size:smaller">图说</span></em>',  # no <p> at all
        "<div><p></p><p><small>图说</small></p></div>",
        '<p><em><span style="font-size:smaller">图说一</span></em></p><p> </p>'
        '<p><span style="font-size:smaller"><em>图说二</em></span></p>',
    ],
)
def test_captions_under_an_embed_in_messy_markup_are_dropped(caption: str) -> None:
    for embed in (EMBED, '<figure><img src="b.jpg"><figcaption></figcaption></figure>'):
        result = body(f"<p>前</p>{embed}{caption}<p>后</p>")
        assert result.paragraphs == ["前", "后"]
        assert result.html == "<p>前</p><p>后</p>"


def test_caption_in_the_embeds_own_paragraph_is_dropped() -> None:
    result = body(
        '<p><img src="a.jpg"><br><em><span style="font-size:smaller">图说</span></em></p>'
    )
    assert result.paragraphs == [] and result.html == ""


@pytest.mark.parametrize(
    "kept",
    [
        "<p><em>“不居中、不是小字的引语。”</em></p>",
        "<p>&nbsp;</p><p><i>“空段之后的斜体引语。”</i></p>",
        '<p class="rtecenter">&nbsp;</p><p><em>“编辑留下的居中空段，不是外壳。”</em></p>',
        "<p><strong>记者：</strong>粗体开头的段落。</p>",
        "<h2>小标题</h2>",
        "<blockquote><p><em>“引语”</em></p></blockquote>",
    ],
)
def test_text_under_an_embed_that_is_no_caption_stays(kept: str) -> None:
    result = body(f"{EMBED}{kept}")
    assert result.paragraphs and "<" not in "".join(result.paragraphs)
    assert result.html == body(kept).html  # as if no embed were there


def test_text_between_embed_and_small_print_ends_the_caption_zone() -> None:
    result = body(f"{EMBED}<p>正文。</p><p><small>小字注释</small></p>")
    assert result.paragraphs == ["正文。", "小字注释"]


@pytest.mark.parametrize(
    "teaser",
    [
        '<p><strong>&gt;&gt; READ ON THE OBSERVERS: <a href="/en/a">A</a></strong></p>',
        '<p><strong>&gt;&gt; READ ON THE OBSERVERS:</strong> <a href="/en/a">A</a></p>',
        '<p><b>» À LIRE SUR LES OBSERVATEURS : </b><a href="/fr/a"><b>A</b></a></p>',
        '<p><strong>&gt;&gt; 延伸阅读：《<a href="/cn/a">甲</a>》</strong></p>',
        '<p><strong>&gt;&gt; 延伸阅读：</strong>《<a href="/cn/a">甲</a>》。</p>',
        '<p>法广专题：<a href="/cn/a">甲</a></p>',  # a label with a colon, bold or not
        '<p><strong>延伸阅读：<a href="/cn/a">甲</a><a href="/cn/a">乙</a></strong></p>',
    ],
)
def test_teasers_of_real_markup_are_dropped(teaser: str) -> None:
    assert body(f"<p>前</p>{teaser}<p>后</p>").paragraphs == ["前", "后"]


@pytest.mark.parametrize(
    "paragraph",
    [
        '<p>他说：<a href="/cn/a">这篇报道</a>是假的。</p>',  # the sentence goes on
        '<p>详见：<a href="/cn/a">甲</a>和<a href="/cn/b">乙</a></p>',  # two articles
        '<p><strong>READ ON:</strong> <a href="/en/a">A</a> <a href="/en/b">B</a></p>',
        "<p>这是一个相当长的句子，它以冒号结尾，而后面只有一个链接，但它太长了不像标签："
        '<a href="/cn/a">甲</a></p>',
        "<p>一个没有逗号但长得远远超过任何标签应有长度的句子也以冒号结尾："
        '<a href="/cn/a">甲</a></p>',
        '<p>据<a href="/cn/a">本台报道</a></p>',
        '<p><a href="/cn/a">无标签也不加粗的链接</a></p>',
    ],
)
def test_paragraphs_with_links_that_are_no_teasers_stay(paragraph: str) -> None:
    assert len(body(f"<p>前</p>{paragraph}<p>后</p>").paragraphs) == 3
