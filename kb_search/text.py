"""Language: the one place that splits, folds and stems text.

The index, the search, the query log's grouping form, writers' synonyms and the synonym
suggestions all take their words from a `Language`, so a word means the same thing everywhere:
"didn't arrive" in `synonyms.yml` is the same two words the index holds. English is the first
language, Swedish the second (`LANGUAGES`, `language(code)`). A Swedish index also knows its
help center's own words (`with_vocabulary`): through them a definite form is read as its word
("paketet" is "paket", which Snowball leaves whole) and a compound as its parts as well
("returetikett" also finds "retur" and "etikett").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    SubstitutionFilter,
)
from whoosh.analysis.acore import Token
from whoosh.lang import stopwords_for_language
from whoosh.lang.porter import stem as porter_stem
from whoosh.lang.snowball.swedish import SwedishStemmer
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
    # Endings of definite forms the stemmer leaves, longest first ("-et", "-en", "-n").
    definite_endings: tuple[str, ...] = ()
    # Words written together that customers also write apart (Swedish compounds).
    compounds: bool = False
    # Endings that are words too, never a compound's last part ("chatt-ar" is no "tar").
    not_parts: frozenset[str] = frozenset()
    # The help center's own words, through which endings and compounds are read.
    known: frozenset[str] = frozenset()
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

    @property
    def reads_compounds(self) -> bool:
        """Whether this language reads words through the help center's own words."""
        return bool(self.definite_endings or self.compounds)

    def with_vocabulary(self, words: Iterable[str]) -> Language:
        """This language reading definite forms and compounds through `words` (an index's
        own words: the same set when it is built and when it is searched)."""
        return replace(self, known=frozenset(words)) if self.reads_compounds else self

    def index_analyzer(self) -> Analyzer:
        """Words, stop words dropped, stemmed: "Returns" and "retúrn" meet."""
        analyzer = self.word_analyzer()
        if self.known:
            analyzer = analyzer | WordPartsFilter(self)
        return (
            analyzer
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

    def without_own_letters(self, word: str) -> str:
        """The word as typed on a keyboard without this language's own letters ("återbetalning"
        -> "aterbetalning"): how customers abroad or in a hurry write it."""
        if not self.keep_letters:
            return word
        return "".join(
            unicodedata.normalize("NFD", c)[0] if c in self.keep_letters else c for c in word
        )

    def base_form(self, word: str) -> str:
        """A definite form as its word, when the help center uses that word ("paketet")."""
        for ending in self.definite_endings:
            base = word[: -len(ending)]
            if (
                word.endswith(ending)
                and len(base) >= MIN_PART
                and base in self.known
                and base not in self.stop_words  # "varan" is no "var", "mitten" no "mitt"
            ):
                return base
        return word

    def parts(self, word: str, depth: int = 2) -> list[str]:
        """The known words a compound is made of, longest first part first; [] for none.

        "leveransadress" -> ["leverans", "adress"]; a linking "s" is allowed between them
        ("betalningssätt" -> ["betalning", "sätt"]); up to three parts.
        """
        if not self.compounds or len(word) < 2 * MIN_PART or everyday(word, self.code):
            return []
        return self._split(word, depth)

    def _split(self, word: str, depth: int) -> list[str]:
        for cut in range(len(word) - MIN_PART, MIN_PART - 1, -1):
            head, tail = word[:cut], word[cut:]
            if head not in self.known or head in self.stop_words:
                continue
            for rest in (tail, tail[1:] if tail.startswith("s") and head[-1] != "s" else ""):
                if len(rest) < MIN_PART or rest in self.stop_words or rest in self.not_parts:
                    continue
                if rest in self.known or self.base_form(rest) != rest:
                    return [head, self.base_form(rest)]
                if depth > 1 and (more := self._split(rest, depth - 1)):
                    return [head, *more]
        return []


# The shortest word a compound's part or a definite form's base may be: "tid" in "leveranstid".
MIN_PART = 3
# A word this common in everyday text of its language is a word of its own, not a compound:
# "alltid" is not "all" + "tid", "kommer" not "kom" + "mer" (wordfreq's Zipf scale; "presentkort"
# 3.49 and "leveransadress" 1.71 are split, "adresser" 3.69 and "alltid" 5.93 are not).
EVERYDAY_ZIPF = 3.5


@functools.lru_cache(maxsize=50_000)
def everyday(word: str, code: str) -> bool:
    """Whether `word` is a common word of language `code`."""
    import wordfreq  # its lists load on first use, not with every `kb` command

    # The small list, as spelling's real words: it holds every word this common, loads in 10 ms.
    return bool(wordfreq.zipf_frequency(word, code, wordlist="small") >= EVERYDAY_ZIPF)


class WordPartsFilter(Filter):  # type: ignore[misc]
    """Each word as its base form, then its compound parts (as the words after it: the stop
    filter numbers positions again, the same when indexing and searching)."""

    def __init__(self, language: Language) -> None:
        self.language = language

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WordPartsFilter) and other.language == self.language

    def __call__(self, tokens: Iterable[Token]) -> Iterator[Token]:
        for token in tokens:
            token.text = self.language.base_form(token.text)
            parts = self.language.parts(token.text)
            yield token
            for part in parts:
                extra = token.copy()
                extra.text = part
                yield extra


# Building an analyzer chain costs more than analysing a short query; a few kept, since each
# release's Swedish language carries its own vocabulary.
@functools.lru_cache(maxsize=16)
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


# Snowball's Swedish stop list (Whoosh ships it), and what customers add to a question: "e"
# and "va" for "är" and "vad", greetings. Measured on tests/relevance/sv/dev.csv against a
# list of our own that also dropped "får", "vill", "ska": 0.950 / 0.904 against 0.940 / 0.894.
SWEDISH_STOP_WORDS = frozenset(stopwords_for_language("sv")) | frozenset(
    "e va hej hejsan tack snälla hjälp behöver undrar".split()
)


@functools.lru_cache(maxsize=50_000)
def swedish_stem(word: str) -> str:
    """Snowball's Swedish stemmer, cached like english_stem."""
    result: str = _SWEDISH_STEMMER.stem(word)
    return result


_SWEDISH_STEMMER = SwedishStemmer()

SWEDISH = Language(
    "sv",
    SWEDISH_STOP_WORDS,
    swedish_stem,
    keep_letters="åäö",  # "får" is not "far", "hår" is not "har"
    definite_endings=("arna", "erna", "orna", "en", "et", "an", "n", "t"),
    compounds=True,
    not_parts=frozenset("ar er or na ade are ande dra era mer par ser tar".split()),
)

LANGUAGES = {language.code: language for language in (ENGLISH, SWEDISH)}
# The language of a help center that names none, and of log events from before languages.
DEFAULT_LANGUAGE = ENGLISH.code


def language(code: str) -> Language:
    """The `Language` for a code ("en", "sv"); KeyError for one the help center lacks."""
    return LANGUAGES[code]
