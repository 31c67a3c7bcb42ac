"""`kb eval --learn`: the learning loop, simulated on a relevance set and measured.

The set is split in two halves (seeded). Customers from the first half, the "seen" queries,
visit the real app (Starlette's TestClient on `create_app`, a release and a SQLite log in a
temporary folder): each searches its query and opens the expected article when it is among the
first TOP_SEEN results; otherwise it searches again with the article's title and opens it there
(a reformulation), or gives up. MISCLICK of them open the first result, whatever it is, as
customers do. Then the loop runs as an operator would run it: `kb synonyms suggest`, the patch
applied to a copy of the docs, a new release, and the learned boosts. Findability is measured
before and after on the other half, the "unseen" queries nobody searched (did the help center
learn words, or only answers?), and on the seen half (what repeated searches get).

Everything is seeded: the same set, docs, visits and seed give the same figures.
"""

from __future__ import annotations

import random
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from kb_search import articles
from kb_search import search as engine
from kb_search.app import create_app
from kb_search.boosts import Boosts, LearnedBoosts
from kb_search.config import Settings
from kb_search.evaluate import Case, Evaluation, Outcome
from kb_search.querylog.sqlite import SQLiteStore
from kb_search.semantic import Encoder, load_encoder
from kb_search.suggestions import Suggestion, suggest, write_synonyms
from kb_search.versions import LiveIndex, build

TOP_SEEN = 5  # results a simulated customer looks at
MISCLICK = 0.1  # share of customers who open the first result whatever it is
VISITS_PER_QUERY = 5  # default visits: this many per seen query
RANKS = 10  # results measured per query, as `kb eval`


def split(cases: Sequence[Case], seed: int) -> tuple[list[Case], list[Case]]:
    """(seen, unseen): the set shuffled with `seed`, cut in two."""
    shuffled = list(cases)
    random.Random(seed).shuffle(shuffled)
    half = (len(shuffled) + 1) // 2
    return shuffled[:half], shuffled[half:]


def measure(
    index: Any,
    cases: Sequence[Case],
    encoder: Encoder | None = None,
    semantic_weight: float = 0.0,
    boosts: Boosts | None = None,
) -> dict[str, float]:
    """recall@3 and MRR of `cases`, searched as `kb eval` searches them (with `boosts`)."""
    outcomes = []
    for case in cases:
        answer = engine.search(
            index,
            case.query,
            limit=RANKS,
            encoder=encoder,
            semantic_weight=semantic_weight,
            boosts=boosts,
        )
        ranked = [(str(r.id), r.title) for r in answer.results]
        outcomes.append(Outcome(case, ranked, answer.total))
    evaluation = Evaluation(outcomes)
    return {"recall_at_3": round(evaluation.recall_at(3), 4), "mrr": round(evaluation.mrr, 4)}


class _Remembering(Encoder):
    """An encoder that encodes each text once: a release with new synonyms has the same
    article texts, so its vectors come from memory instead of minutes of encoding."""

    def __init__(self, encoder: Encoder) -> None:  # a wrapper: the model stays `encoder`'s
        self.name, self.encode_query, self._encoder = encoder.name, encoder.encode_query, encoder
        self._vectors: dict[str, Any] = {}

    def encode(self, texts: Sequence[str]) -> Any:
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self._encoder.encode(missing), strict=True))
        return np.stack([self._vectors[t] for t in texts])


class Simulation:
    """A temporary help center: a copy of the docs, its releases, a query log, customers."""

    def __init__(self, folder: Path, docs_dir: Path, settings: Settings, seed: int) -> None:
        self.docs = articles.copy_help_center(docs_dir, folder / "docs")
        self.root = folder / "releases"
        self.log = folder / "querylog.sqlite3"
        self.encoder = load_encoder(settings.model_dir) if settings.semantic_weight else None
        self.weight = settings.semantic_weight if self.encoder else 0.0
        self._build_encoder = _Remembering(self.encoder) if self.encoder else None
        self.app_settings = Settings.from_env(
            {},
            docs_dir=self.docs,
            index_dir=self.root,
            log_url=f"sqlite:///{self.log}",
            rate_limit=10**9,
            log_searches_per_minute=10**9,
            semantic_weight=self.weight,
            model_dir=settings.model_dir,
            learned_boosts=True,
        )
        self.rng = random.Random(seed)
        self.visits = 0
        self.customers: Counter[str] = Counter()
        self.learned = LearnedBoosts(SQLiteStore(self.log))
        self.boosts: Boosts | None = None
        self.added: list[Suggestion] = []  # synonyms written to the docs, every round
        self.release()
        self.learned.refresh(self.live.current())  # evidence counts from this release on

    def release(self) -> None:
        build(articles.load(self.docs), self.root, encoder=self._build_encoder)
        self.live = LiveIndex(self.root)

    def visit(self, client: TestClient, cases: Sequence[Case], titles: dict[str, str]) -> None:
        case = self.rng.choice(cases)
        session = f"visit-{self.visits:06d}"
        self.visits += 1
        search_id, shown = _search(client, case.query, session)
        wanted = next((i for i in shown[:TOP_SEEN] if i in case.expected), None)
        if shown and self.rng.random() < MISCLICK:
            _click(client, search_id, shown[0])
            self.customers["opened the first result"] += 1
        elif wanted is not None:
            _click(client, search_id, wanted)
            self.customers["found it"] += 1
        elif case.expected[0] in titles:
            search_id, shown = _search(client, titles[case.expected[0]], session)
            if case.expected[0] in shown[:TOP_SEEN]:
                _click(client, search_id, case.expected[0])
                self.customers["found it with its title"] += 1
            else:
                self.customers["gave up"] += 1
        else:  # an article the set expects that is not published
            self.customers["gave up"] += 1

    @contextmanager
    def service(self) -> Iterator[TestClient]:
        """The real app on the newest release, with the boosts learned so far (a service
        that ran through the releases would have kept them)."""
        with TestClient(create_app(self.app_settings)) as client:
            service = client.app.state.service  # type: ignore[attr-defined]
            service.learned = {self.learned.language: self.learned}
            yield client

    def learn(self) -> None:
        """The loop: suggested synonyms written to the docs, a new release, boosts."""
        center = articles.load(self.docs)
        suggested = suggest(center, SQLiteStore(self.log))
        if suggested:
            write_synonyms(center, suggested)
            self.added += suggested
            self.live.close()
            self.release()
        self.boosts = self.learned.refresh(self.live.current())

    def moving(self) -> int:
        """How many learned boosts move an article on the current release, as customers see it."""
        if not self.boosts:
            return 0
        index, moved = self.live.current(), 0
        for boost in self.boosts.by_query.values():
            shown = engine.search(
                index, boost.example, encoder=self.encoder, semantic_weight=self.weight
            )
            moved += self.boosts.move(boost.example, shown.results) is not None
        return moved

    def figures(self, cases: Sequence[Case]) -> dict[str, dict[str, float]]:
        index = self.live.current()
        found = {"lexical": measure(index, cases, boosts=self.boosts)}
        if self.encoder is not None:
            found["hybrid"] = measure(index, cases, self.encoder, self.weight, self.boosts)
        return found


def _search(client: TestClient, query: str, session: str) -> tuple[str, list[str]]:
    reply = client.get("/api/search", params={"q": query, "session": session}).json()
    return reply["search_id"], [str(r["id"]) for r in reply["results"]]


def _click(client: TestClient, search_id: str, article_id: str) -> None:
    client.post("/api/click", json={"search_id": search_id, "article_id": article_id})


def learning_run(
    settings: Settings,
    cases: Sequence[Case],
    checkpoints: Sequence[int],
    seed: int = 0,
) -> dict[str, Any]:
    """Figures at each number of visits in `checkpoints`, the loop run at each; at 0, before."""
    seen, unseen = split(cases, seed)
    points = []
    with tempfile.TemporaryDirectory(prefix="kb-learn-") as folder:
        sim = Simulation(Path(folder), settings.docs_dir, settings, seed)
        try:
            titles = {str(a.id): a.title for a in articles.load(sim.docs).published}
            for target in sorted(set(checkpoints)):
                if target > sim.visits:
                    with sim.service() as client:
                        while sim.visits < target:
                            sim.visit(client, seen, titles)
                    sim.learn()
                points.append(
                    {
                        "visits": sim.visits,
                        "unseen": sim.figures(unseen),
                        "seen": sim.figures(seen),
                        "synonyms": len(sim.added),
                        "boosts": len(sim.boosts.by_query) if sim.boosts else 0,
                        "boosts_moving": sim.moving(),
                    }
                )
            learned = {
                "synonyms": [
                    {
                        "article": s.article.id,
                        "word": s.word,
                        "searches": s.searches,
                        "failed": s.failed,
                        "examples": list(s.examples),
                    }
                    for s in sim.added
                ],
                "boosts": {
                    query: vars(boost)
                    for query, boost in (sim.boosts.by_query if sim.boosts else {}).items()
                },
            }
        finally:
            sim.live.close()
    return {
        "seed": seed,
        "seen": len(seen),
        "unseen": len(unseen),
        "ranker": "hybrid" if sim.encoder else "lexical",
        "customers": dict(sim.customers),
        "checkpoints": points,
        "learned": learned,
    }


def render(run: dict[str, Any]) -> str:
    """`kb eval --learn`'s table: findability before and after the loop."""
    first, last = run["checkpoints"][0], run["checkpoints"][-1]
    customers = ", ".join(f"{n} {what}" for what, n in sorted(run["customers"].items()))
    lines = [
        f"{last['visits']} simulated visits by customers of {run['seen']} seen queries "
        f"(seed {run['seed']}, ranker {run['ranker']}): {customers or 'none'}",
        f"learned: {last['synonyms']} synonyms, {last['boosts']} boosted searches "
        f"({last['boosts_moving']} move an article)",
        "",
        f"{'':<26}{'before':>10}{'after':>10}",
    ]
    for half in ("unseen", "seen"):
        lines.append(f"{half} queries (n={run[half]})")
        for ranker in first[half]:
            for key, label in (("recall_at_3", "recall@3"), ("mrr", "MRR")):
                before, after = first[half][ranker][key], last[half][ranker][key]
                lines.append(f"  {label + ' ' + ranker:<24}{before:>10.3f}{after:>10.3f}")
    if run["learned"]["synonyms"]:
        lines.append("\nSynonyms written (article, word, searches, failed searches, examples):")
        for s in run["learned"]["synonyms"]:
            examples = ", ".join(repr(e) for e in s["examples"])
            counts = f"{s['searches']:>4}{s['failed']:>4}"
            lines.append(f"  {s['article']:>5}  {s['word']:<16}{counts}  {examples}")
    return "\n".join(lines)
