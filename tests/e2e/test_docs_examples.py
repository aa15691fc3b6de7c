"""Every worked example in docs/api.md runs verbatim against ``creditbank serve --demo``.

An example is marked in the Markdown with an HTML comment (invisible when rendered):

- ``<!-- example ROLE SUBJECT -->`` (or ``<!-- example anonymous -->``) before a ```graphql block:
  the query is sent as written, with the variables of the following "with `{...}`" line, as that
  caller; the next ```json block is what the server must answer. ``<!-- example ROLE SUBJECT
  again -->`` sends the previous example's query with new variables.
- ``<!-- example sh -->`` before a ```sh block: the commands run in bash, in one working folder,
  with the served bank's data directory; ``uv run`` is the project's own environment.

Placeholders in angle brackets stand for what differs between runs: ``<Wang Fang's id>`` and the
other demo names (from ``creditbank demo``'s output), ``<FILE>`` for a file an ``sh`` example
wrote (its content). In an expected answer, ``"…": "…"`` allows more members, a final ``"…"``
allows more list items, and any UUID, timestamp, hash or cursor-free id matches any of its kind.

Run with ``CREDITBANK_DOCS_PRINT=1`` to print each answer (for writing the docs).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from application.settings import CHECKOUT
from tests.e2e.support import run_cli, served, sqlite_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

DOC = CHECKOUT / "docs" / "api.md"
DIRECTIVE = re.compile(r"^\s*<!-- example (?P<spec>.+?) -->$")
FENCE = re.compile(r"^\s*```(?P<lang>\w*)\s*$")
WITH = re.compile(r"with `(?P<vars>\{.*\})`")
PLACEHOLDER = re.compile(r"<([^<>\n]{1,80})>")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EMBEDDED_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)$")
HASH = re.compile(r"^(sha256:)?[0-9a-f]{64}$")
MORE = "…"


@dataclass
class Example:
    line: int
    role: str  # a Role, "anonymous", or "sh"
    subject: str
    again: bool  # the previous example's query with new variables
    lang: str = ""
    body: str = ""
    variables: str | None = None
    expected: str | None = None


@dataclass
class Run:
    base: str
    env: dict[str, str]
    folder: Path
    names: dict[str, str]
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)
    last_query: str | None = None


def examples(text: str) -> list[Example]:
    lines = text.splitlines()
    found: list[Example] = []
    i = 0

    def block(start: int) -> tuple[str, str, int]:
        """The fenced block at or after ``start``: (language, body, index after its end)."""
        j = start
        while j < len(lines) and not FENCE.match(lines[j]):
            if DIRECTIVE.match(lines[j]):
                raise AssertionError(f"docs/api.md:{j + 1}: a directive with no block before it")
            j += 1
        opening = FENCE.match(lines[j]) if j < len(lines) else None
        assert opening, f"docs/api.md:{start}: an example with no block"
        k = j + 1
        while not FENCE.match(lines[k]):
            k += 1
        indent = len(lines[j]) - len(lines[j].lstrip())
        body = "\n".join(
            line[indent:] if not line[:indent].strip() else line for line in lines[j + 1 : k]
        )
        return opening["lang"], body, k + 1

    while i < len(lines):
        directive = DIRECTIVE.match(lines[i])
        if not directive:
            i += 1
            continue
        words = directive["spec"].split()
        again = words[-1] == "again"
        subject = " ".join(words[1 : len(words) - again])
        example = Example(i + 1, words[0], subject, again)
        if not again:
            example.lang, example.body, i = block(i + 1)
        else:
            i += 1
        # then, up to the next directive or heading: a "with `{...}`" line and a json block
        while i < len(lines) and not DIRECTIVE.match(lines[i]) and not lines[i].startswith("#"):
            match = WITH.search(lines[i])
            if match and example.variables is None and example.expected is None:
                example.variables = match["vars"]
            if FENCE.match(lines[i]):
                lang, body, after = block(i)
                if lang == "json" and example.expected is None and example.role != "sh":
                    example.expected = body
                    i = after
                    break
                i = after
                continue
            i += 1
        found.append(example)
    return found


def fill(text: str, run: Run) -> str:
    def value(match: re.Match[str]) -> str:
        name = match[1]
        if name in run.names:
            return run.names[name]
        path = run.folder / name
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
        return match[0]  # not a placeholder (e.g. a generic type in prose)

    return PLACEHOLDER.sub(value, text)


def matches(expected: Any, actual: Any, where: str = "$") -> list[str]:
    """Differences between an excerpt and the answer ('…' allows more; ids, times and hashes
    match any of their kind)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r}"]
        problems = []
        more = expected.get(MORE) == MORE
        for key, value in expected.items():
            if key == MORE:
                continue
            if key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += matches(value, actual[key], f"{where}.{key}")
        extra = set(actual) - set(expected)
        if extra and not more:
            problems.append(f"{where}: unexpected members {sorted(extra)}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {actual!r}"]
        more = bool(expected) and expected[-1] == MORE
        items = expected[:-1] if more else expected
        if len(actual) < len(items) or (not more and len(actual) != len(items)):
            return [f"{where}: {len(actual)} items, expected {len(items)}{'+' if more else ''}"]
        problems = []
        for n, item in enumerate(items):
            problems += matches(item, actual[n], f"{where}[{n}]")
        return problems
    if isinstance(expected, str) and isinstance(actual, str) and expected != actual:
        for kind in (UUID, MOMENT, HASH):
            if kind.match(expected):
                return (
                    [] if kind.match(actual) else [f"{where}: {actual!r} is not like {expected!r}"]
                )
        if EMBEDDED_UUID.search(expected):  # e.g. an actor "institution:<uuid>"
            pattern = EMBEDDED_UUID.pattern.join(map(re.escape, EMBEDDED_UUID.split(expected)))
            if re.fullmatch(pattern, actual):
                return []
    return [] if expected == actual else [f"{where}: {actual!r}, expected {expected!r}"]


CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def remember(answer: Any, names: dict[str, str]) -> None:
    """Names later examples may use: ``<Computer Networks outcome id>`` for an outcome an
    answer showed, ``<CS-101 standard id>`` for a standard, ``<Li Wei's id>`` for a learner,
    ``<the time of version 3>`` for a history event's moment, ``<the waiting recognition id>``
    for a decision waiting for a second officer, ``<the rule NAME>`` for a conversion rule,
    ``<the qualification NAME>`` for a qualification, ``<the award id>`` for the last award."""
    if isinstance(answer, dict):
        if isinstance(answer.get("title"), str) and isinstance(answer.get("id"), str):
            english = CJK.split(answer["title"], 1)[0].strip()
            names[f"{english} outcome id"] = answer["id"]
        if isinstance(answer.get("displayName"), str) and isinstance(answer.get("id"), str):
            names[f"{answer['displayName']}'s id"] = answer["id"]
        if isinstance(answer.get("code"), str) and isinstance(answer.get("id"), str):
            names[f"{answer['code']} standard id"] = answer["id"]
        if isinstance(answer.get("action"), str) and isinstance(answer.get("id"), str):
            names[f"the waiting {answer['action'].lower()} id"] = answer["id"]
        if isinstance(answer.get("inForce"), bool) and isinstance(answer.get("id"), str):
            names[f"the rule {answer['name']}"] = answer["id"]
        named = isinstance(answer.get("name"), str) and isinstance(answer.get("id"), str)
        if named and isinstance(answer.get("level"), int):  # a qualification
            names[f"the qualification {CJK.split(answer['name'], 1)[0].strip()}"] = answer["id"]
        if "creditsCounted" in answer and isinstance(answer.get("id"), str):  # an award
            names["the award id"] = answer["id"]
        if isinstance(answer.get("version"), int) and isinstance(answer.get("at"), str):
            names[f"the time of version {answer['version']}"] = answer["at"]
        for value in answer.values():
            remember(value, names)
    elif isinstance(answer, list):
        for value in answer:
            remember(value, names)


def token(run: Run, role: str, subject: str) -> str:
    key = (role, subject)
    if key not in run.tokens:
        result = run_cli(run.env, "token", "--role", role, "--subject", subject)
        assert result.returncode == 0, result.stderr
        run.tokens[key] = result.stdout.strip()
    return run.tokens[key]


def run_graphql(run: Run, example: Example) -> Any:
    query = run.last_query if example.again else example.body
    assert query, f"docs/api.md:{example.line}: 'again' with no query before it"
    run.last_query = query
    variables = json.loads(fill(example.variables, run)) if example.variables else None
    headers = {}
    if example.role != "anonymous":
        subject = fill(example.subject, run)
        headers["Authorization"] = f"Bearer {token(run, example.role, subject)}"
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return httpx.post(run.base + "/graphql", json=body, headers=headers, timeout=60).json()


def run_sh(run: Run, example: Example) -> None:
    script = (
        'uv() { if [ "$1" = run ]; then shift; "$@"; else command uv "$@"; fi; }\n'
        "set -euo pipefail\n" + example.body
    )
    env = {**run.env, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=run.folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"docs/api.md:{example.line}: {result.stderr}"


def test_the_docs_have_examples_to_run() -> None:
    found = examples(DOC.read_text(encoding="utf-8"))
    graphql = [e for e in found if e.role != "sh"]
    assert len(graphql) >= 15
    assert all(e.expected for e in graphql), [e.line for e in graphql if not e.expected]


def test_every_example_in_the_api_docs_answers_as_written(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path / "data")
    demo = run_cli(env, "demo")
    assert demo.returncode == 0, demo.stderr
    ids = json.loads(demo.stdout)
    names = {f"{name.split()[0]} {name.split()[1]}'s id": i for name, i in ids["learners"].items()}
    names |= {
        "Huadong's id": ids["institutions"]["huadong-university"],
        "Lianhua's id": ids["institutions"]["lianhua-training"],
        "the bachelor's id": ids["qualifications"]["bachelor"],
        "the agreement's id": ids["conversionRules"]["agreement"],
    }
    for what, outcome in ids["outcomes"].items():
        names[f"{CJK.split(what.split(': ', 1)[1], 1)[0].strip()} outcome id"] = outcome
    folder = tmp_path / "work"
    folder.mkdir()
    show = os.environ.get("CREDITBANK_DOCS_PRINT") == "1"
    problems: list[str] = []
    with served(env, "--demo") as base:
        run = Run(base, env, folder, names)
        for example in examples(DOC.read_text(encoding="utf-8")):
            if example.role == "sh":
                run_sh(run, example)
                continue
            answer = run_graphql(run, example)
            remember(answer, run.names)
            if show:
                print(f"--- docs/api.md:{example.line}\n{json.dumps(answer, ensure_ascii=False)}")
            assert example.expected is not None
            expected = json.loads(fill(example.expected, run))
            problems += [f"docs/api.md:{example.line}: {p}" for p in matches(expected, answer)]
    assert problems == [], "\n".join(problems)


def test_the_matcher_itself() -> None:
    assert matches({"a": 1, MORE: MORE}, {"a": 1, "b": 2}) == []
    assert matches({"a": 1}, {"a": 1, "b": 2}) == ["$: unexpected members ['b']"]
    assert matches([1, MORE], [1, 2, 3]) == []
    assert matches([1, 2], [1]) == ["$: 1 items, expected 2"]
    assert (
        matches("6e7422a1-c09d-4816-8a03-acd201cbaa21", "00000000-0000-0000-0000-000000000000")
        == []
    )
    assert matches("6e7422a1-c09d-4816-8a03-acd201cbaa21", "x") != []
    assert matches({"total": "35.50"}, {"total": "35.00"}) == ["$.total: '35.00', expected '35.50'"]
    actor = "institution:6e7422a1-c09d-4816-8a03-acd201cbaa21"
    assert matches(actor, "institution:00000000-0000-0000-0000-000000000000") == []
    assert matches(actor, "learner:00000000-0000-0000-0000-000000000000") != []
