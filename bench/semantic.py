"""The semantic ranker's costs, each measured in fresh processes so nothing is warm but the disk.

- cold start: `python -c` that imports kb_search.semantic, loads the encoder and encodes one
  query, timed from outside (interpreter start and imports count); median of RUNS;
- memory: that process's peak resident memory (VmHWM) after the query;
- query, batch: one uncached short query (median of 50) and 64 texts of the help center's
  articles encoded at once, as `kb index` does, in another process;
- install size: the files of the [semantic] extra's distributions and of all they require, as
  installed, plus the model's folder (the weights are fetched, not a distribution); and what of
  that a kb_search install without the extra lacks (pyyaml, click, anyio... it has already).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3

_COLD = """
from kb_search.semantic import load_encoder
encoder = load_encoder()
if encoder is None:
    raise SystemExit("the [semantic] extra or its model is not available")
encoder.encode_query("where is my parcel")
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(int(status["VmHWM"].split()[0]) / 1024)
"""

_WARM = """
import json, statistics, time
from pathlib import Path
from kb_search.articles import load
from kb_search.semantic import MAX_SECTION_CHARACTERS, load_encoder
encoder = load_encoder()
encoder.encode_query("warm up")
timings = []
for n in range(50):
    started = time.perf_counter()
    encoder.encode_query(f"where is parcel {n}")
    timings.append(time.perf_counter() - started)
articles = load(Path("docs")).articles
texts = [f"{a.title}. {a.summary}" for a in articles]
texts += [p[:MAX_SECTION_CHARACTERS] for a in articles for p in a.markdown.split("\\n\\n")]
started = time.perf_counter()
encoder.encode(texts[:64])
print(json.dumps([statistics.median(timings) * 1000, (time.perf_counter() - started) * 1000]))
"""


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"semantic bench: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _requirements(extra: str = "") -> list[str]:
    """The distributions pyproject.toml names: the base project's, or one extra's."""
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(line).name for line in lines]


def closure(names: list[str]) -> set[str]:
    """These installed distributions and all they require, recursively (not their extras)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name not in seen:
            seen.add(name)
            for line in metadata.distribution(name).requires or ():
                requirement = Requirement(line)
                if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                    todo.append(requirement.name)
    return seen


def installed_mb(names: set[str]) -> float:
    """The size of these distributions' installed files."""
    total = 0
    for name in names:
        dist = metadata.distribution(name)
        paths = (Path(str(dist.locate_file(file))) for file in dist.files or ())
        total += sum(path.stat().st_size for path in paths if path.exists())
    return total / 2**20


def semantic_figures() -> dict[str, float]:
    """Cold start (s), peak memory (MB), query and batch times (ms), install size (MB).

    Raises RuntimeError, with the child's message, when the extra or its model is missing.
    """
    from kb_search.semantic import default_model_dir

    starts, peaks = [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        peaks.append(float(_python(_COLD)))
        starts.append(time.perf_counter() - started)
    query_ms, batch_ms = json.loads(_python(_WARM))
    extra = closure(_requirements("semantic"))
    libraries = installed_mb(extra)
    added = installed_mb(extra - closure(_requirements()))  # what kb_search lacks without it
    files = Path(default_model_dir()).rglob("*")
    model = sum(path.stat().st_size for path in files if path.is_file()) / 2**20
    return {
        "semantic_cold_start_s": round(statistics.median(starts), 2),
        "semantic_peak_rss_mb": round(statistics.median(peaks)),
        "semantic_query_ms": round(query_ms, 2),
        "semantic_batch64_ms": round(batch_ms),
        "semantic_libraries_mb": round(libraries),
        "semantic_model_mb": round(model),
        "semantic_install_mb": round(libraries + model),
        "semantic_added_mb": round(added + model),
    }


if __name__ == "__main__":
    print(json.dumps(semantic_figures(), indent=2))
