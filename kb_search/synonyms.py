"""Writers' synonyms (`docs/synonyms.yml`): words customers use interchangeably.

A search for any member of a group also finds articles that use another member. Applied at query
time; checked when the index is built, with errors that name the file and the group. Each
language's folder has its own file, read with that language's words (`load_synonyms(folder,
SWEDISH)`: "får" stays "får").
"""

from __future__ import annotations

from pathlib import Path

import yaml

from kb_search.articles import ContentError
from kb_search.text import ENGLISH, Language

SYNONYMS_FILE = "synonyms.yml"


def words(text: str, language: Language = ENGLISH) -> tuple[str, ...]:
    """The words search takes from a customer's text ("didn't" stays one word)."""
    return tuple(language.words(text))


class Synonyms:
    """Groups of equivalent words or phrases; `expand` finds the alternatives for a query."""

    def __init__(self, groups: list[list[str]], language: Language = ENGLISH) -> None:
        self.groups = groups
        self.language = language
        self._members = [[words(member, language) for member in group] for group in groups]
        self.vocabulary = frozenset(w for group in self._members for m in group for w in m)

    def expand(self, query_words: list[str]) -> list[tuple[str, ...]]:
        """Other members of every group that one of the query's words or phrases belongs to."""
        found: list[tuple[str, ...]] = []
        joined = " " + " ".join(query_words) + " "
        for members in self._members:
            present = [m for m in members if " " + " ".join(m) + " " in joined]
            if present:
                found += [m for m in members if m not in present and m not in found]
        return found


def load_synonyms(docs_dir: Path, language: Language = ENGLISH) -> Synonyms:
    """Read and check one language's synonyms.yml (docs/ for the first language, the folder of
    its articles for another); a missing file means no synonyms."""
    path = docs_dir / SYNONYMS_FILE
    where = f"{docs_dir.name}/{SYNONYMS_FILE}"
    if not path.exists():
        return Synonyms([])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as error:
        raise ContentError([f"{where}: not valid YAML: {error}"]) from None
    if not isinstance(data, list):
        raise ContentError([f"{where}: must be a list of groups, e.g. - [parcel, package]"])
    problems: list[str] = []
    groups: list[list[str]] = []
    owner: dict[tuple[str, ...], int] = {}
    for number, group in enumerate(data, 1):
        if not isinstance(group, list) or not all(isinstance(m, str | int) for m in group):
            problems.append(f"{where}: group {number} must be a list of words, e.g. [a, b]")
            continue
        members = [str(m).strip().lower() for m in group if str(m).strip()]
        if len(members) < 2:
            problems.append(f"{where}: group {number} needs at least two words")
        for member in members:
            key = words(member, language)
            if key in owner and owner[key] != number:
                problems.append(
                    f"{where}: group {number}: '{member}' is already in group "
                    f"{owner[key]}; merge the two groups"
                )
            owner.setdefault(key, number)
        groups.append(members)
    if problems:
        raise ContentError(problems)
    return Synonyms(groups, language)
