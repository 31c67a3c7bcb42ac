"""Snippets read as sentences: what a customer sees under each result's title."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from kb_search.articles import load
from kb_search.sections import split_sections
from kb_search.snippets import MAX_CHARS, snippet, split_sentences
from kb_search.text import ENGLISH
from tests.conftest import ROOT

REFUND_STEPS = """
We refund you within 5 working days after your return reaches us.

## The steps of your refund

| Step | Time it takes |
|---|---|
| Your return travels back to us | A few working days, depending on the carrier |
| We check your return and refund you | Up to 5 working days |

### Paid by card

We email you when your refund is on its way. Your bank then needs 3-10 days.
"""

PHONE = "+46 8 520 277 00"
AMOUNTS = ["\u20ac4.95", "4.95 EUR", "1 000 kr"]


def snippet_for(markdown: str, words: str, section: int = -1, max_chars: int = MAX_CHARS) -> str:
    passages = split_sections(markdown)[section].passages
    return snippet(passages, ENGLISH.stems(words), max_chars=max_chars)


def visible(snippet_html: str) -> str:
    """What the customer reads: the text without <mark>, entities decoded."""
    return html.unescape(re.sub(r"</?mark>", "", snippet_html))


def test_a_section_with_a_table_gives_its_sentence_not_a_run_of_cells() -> None:
    text = visible(snippet_for(REFUND_STEPS, "when is my refund emailed"))
    assert text == "We email you when your refund is on its way. Your bank then needs 3-10 days."
    assert "Time it takes" not in text and "Paid by card" not in text


def test_a_table_row_reads_as_first_cell_and_the_rest_when_only_it_matches() -> None:
    text = visible(snippet_for(REFUND_STEPS, "carrier"))
    assert text == "Your return travels back to us: A few working days, depending on the carrier"


def test_matched_words_are_marked_in_whatever_form_they_are_written() -> None:
    marked = snippet_for(REFUND_STEPS, "refunds email", section=0)
    assert (
        marked == "We <mark>refund</mark> you within 5 working days after your return reaches us."
    )
    marked = snippet_for(REFUND_STEPS, "emails")
    assert "We <mark>email</mark> you" in marked


def test_the_sentence_with_the_rarer_word_wins() -> None:
    passages = [("p", "How to do it is up to you."), ("p", "A refund takes five days.")]
    weights = {"how": 0.05, "refund": 0.9}
    assert visible(snippet(passages, weights)) == "A refund takes five days."


def test_no_matched_word_gives_no_snippet() -> None:
    assert snippet_for(REFUND_STEPS, "xqzvy") == ""


def test_text_is_escaped_and_only_mark_is_markup() -> None:
    passages = [("p", "Type <script>alert(1)</script> & a refund code.")]
    marked = snippet(passages, ENGLISH.stems("refund"))
    assert marked == (
        "Type &lt;script&gt;alert(1)&lt;/script&gt; &amp; a <mark>refund</mark> code."
    )


def test_sentences_end_at_full_stops_not_at_abbreviations_or_decimals() -> None:
    assert split_sentences("Pay \u20ac4.95 by card, e.g. Visa. Then wait! Done? Yes.") == [
        "Pay \u20ac4.95 by card, e.g. Visa.",
        "Then wait!",
        "Done?",
        "Yes.",
    ]


LONG = (
    "When something goes wrong with a delivery that you were really looking forward to, "
    "and nobody seems to know where the parcel is, you can always {fact} and we will sort it "
    "out with the carrier for you, whatever the time of year and however busy we are, because "
    "a parcel that does not arrive is our problem and never yours."
)


@given(max_chars=st.integers(min_value=40, max_value=260), fact=st.sampled_from([PHONE, *AMOUNTS]))
def test_long_sentences_are_cut_short_but_never_inside_a_number_or_amount(
    max_chars: int, fact: str
) -> None:
    sentence = LONG.format(fact=f"call us on {fact} or pay {fact}")
    text = visible(snippet([("p", sentence)], ENGLISH.stems("parcel carrier"), max_chars=max_chars))
    assert len(text) <= max_chars
    assert text.startswith("\u2026 ") or sentence.startswith(text.rstrip(" \u2026"))
    # A number is there whole or not at all: no run of its digits is left once it is taken out.
    leftover = text.replace(fact, "")
    digits = re.sub(r"\D", "", fact)
    runs = (re.sub(r"\D", "", run) for run in re.findall(r"\d[\d .,]*", leftover))
    assert not any(run in digits for run in runs), text


def test_a_long_sentence_keeps_its_match_in_view() -> None:
    sentence = LONG.format(fact=f"call us on {PHONE}")
    marked = snippet([("p", sentence)], ENGLISH.stems("problem"), max_chars=120)
    assert "<mark>problem</mark>" in marked
    assert visible(marked).startswith("\u2026 ")


def test_every_real_snippet_for_a_table_heavy_article_is_short_and_whole() -> None:
    """Every word of the refund article, searched alone: a sentence or a row, never cut badly."""
    article = load(ROOT / "docs").by_path("refunds/refund-status.md")
    assert article is not None
    for section in split_sections(article.markdown):
        for word in set(ENGLISH.stems(section.text)):
            text = visible(snippet(section.passages, [word]))
            assert len(text) <= MAX_CHARS
            assert "Step Time it takes" not in text


def test_the_search_api_shows_a_sentence_for_a_question_answered_by_a_table(
    client: TestClient,
) -> None:
    """'How long does a refund take' hits the refund steps table; the snippet is prose."""
    body = client.get("/api/search", params={"q": "how long does a refund take"}).json()
    refund = next(r for r in body["results"] if r["url"].startswith("refunds/refund-status"))
    article = load(ROOT / "docs").by_path("refunds/refund-status.md")
    assert article is not None
    sentences = {
        sentence
        for section in split_sections(article.markdown)
        for kind, passage in section.passages
        if kind == "p"
        for sentence in split_sentences(passage)
    }
    text = visible(refund["snippet"])
    assert "<mark>" in refund["snippet"]
    # Whole sentences of the article's prose: one begins it, and it ends as a sentence does.
    assert any(text.startswith(sentence) for sentence in sentences), text
    assert text[-1] in ".!?", text
    assert "Step Time it takes" not in text


def test_a_compound_is_marked_once_though_its_parts_match_too() -> None:
    from kb_search.text import SWEDISH

    swedish = SWEDISH.with_vocabulary(["retur", "etikett", "returetiketten", "mejlet"])
    passage = [("p", "Öppna returetiketten i mejlet och skriv ut den.")]
    marked = snippet(passage, dict.fromkeys(swedish.stems("returetikett"), 1.0), swedish)
    assert marked.count("<mark>") == 1
    assert "<mark>returetiketten</mark>" in marked
