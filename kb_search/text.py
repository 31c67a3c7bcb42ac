"""Language: the one place that splits, folds and stems text.

The index, the search, the query log's grouping form, writers' synonyms and the synonym
suggestions all take their words from a `Language`, so a word means the same thing everywhere:
"didn't arrive" in `synonyms.yml` is the same two words the index holds. English is the first
language; a second one is a new `Language` value (Whoosh ships Snowball stemmers and stop lists
for Swedish and others), not new code.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    SubstitutionFilter,
)
from whoosh.lang.porter import stem as porter_stem
from whoosh.support.charset import accent_map

# A word, with inner dots or apostrophes kept: "didn't", "example.com", "3.5".
WORD_PATTERN = r"\w+(?:[.'\u2019]\w+)*"
# "didn't", "didn\u2019t" (a typographic apostrophe) and "didnt" are one word.
_APOSTROPHES = "['\u2019]"
# What redaction leaves in a text: `<email>`, `<order-number>`.
PLACEHOLDER = re.compile(r"<[a-z-]+>")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


@dataclass(frozen=True)
class Language:
    """How one language's text becomes words and stems."""

    code: str
    stop_words: frozenset[str]
    stem: Callable[[str], str]  # thread-safe and cached: every request thread uses it
    # Letters that stay as they are when accents are folded (Swedish å, ä, ö are letters).
    keep_letters: str = ""
    token_pattern: str = WORD_PATTERN
    _charset: dict[int, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keep = {ord(letter) for letter in self.keep_letters + self.keep_letters.upper()}
        charset = {code: text for code, text in accent_map.items() if code not in keep}
        object.__setattr__(self, "_charset", charset)

    def word_analyzer(self) -> Analyzer:
        """Whole words as written, lowercase, accents folded: the vocabulary for spelling."""
        return (
            RegexTokenizer(self.token_pattern)
            | LowercaseFilter()
            | SubstitutionFilter(_APOSTROPHES, "")
            | CharsetFilter(self._charset)
        )

    def index_analyzer(self) -> Analyzer:
        """Words, stop words dropped, stemmed: "Returns" and "retúrn" meet."""
        return (
            self.word_analyzer()
            | StopFilter(stoplist=self.stop_words, minsize=1)
            # Whoosh's own stem cache has no lock, and every request thread shares this
            # analyzer: `stem` brings its own thread-safe cache (see english_stem).
            | StemFilter(stemfn=self.stem, cachesize=None)
        )

    def query_analyzer(self) -> Analyzer:
        """A customer's words, analysed exactly as the index analysed the articles."""
        return self.index_analyzer()

    def words(self, text: str) -> list[str]:
        """Lowercase, folded words, stop words kept (synonyms, suggestions, spelling)."""
        return [token.text for token in _analyzer(self, "words")(text)]

    def stems(self, text: str) -> list[str]:
        """The index's terms for `text`."""
        return [token.text for token in _analyzer(self, "index")(text)]

    def is_stop_word(self, word: str) -> bool:
        return word in self.stop_words

    def normalise(self, redacted: str) -> str:
        """The form the query log groups searches by: sorted unique stems, numbers as `<n>`,
        redaction placeholders kept ("Returns policy?" -> "polici return").

        `redacted` must already have gone through `redact`: this form is stored.
        """
        placeholders = PLACEHOLDER.findall(redacted)
        text = _NUMBER.sub(" <n> ", PLACEHOLDER.sub(" ", redacted))
        numbers = ["<n>"] if "<n>" in text else []
        words = self.stems(text.replace("<n>", " ")) or self.words(text.replace("<n>", " "))
        return " ".join(sorted({*placeholders, *numbers, *words}))


@functools.cache  # building an analyzer chain costs more than analysing a short query
def _analyzer(language: Language, kind: str) -> Analyzer:
    return language.word_analyzer() if kind == "words" else language.index_analyzer()


# Words that carry no meaning in a help-center search ("where is my order" is about "order").
ENGLISH_STOP_WORDS = frozenset(
    "a an and are as at be been but by can could do does did for from get got has have "
    "i if im in into is it its me my of on or our please so some that the their "
    "them then there this to us was we which who will with would you your yours want "
    "need help hi hello".split()
)


@functools.lru_cache(maxsize=50_000)  # thread-safe, unlike Whoosh's; a module-level name pickles
def english_stem(word: str) -> str:
    """Porter's stemmer, cached: the same few thousand words are stemmed all day."""
    result: str = porter_stem(word)
    return result


ENGLISH = Language("en", ENGLISH_STOP_WORDS, english_stem)
