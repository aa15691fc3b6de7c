"""The bank's OB 3.0 schema verdict is jsonschema's, though a compiled validator (jsonschema-rs)
answers first: the bank accepts on its "valid", so it must never pass a credential jsonschema
refuses. The other way round it may differ (its patterns are ECMA 262: "$" does not match before
a final newline, Python's does), and then jsonschema decides, with its messages.

Property: one edit anywhere in a valid credential (a value replaced by JSON of any type, a key
removed, a key added): compiled "valid" implies jsonschema "valid", and the bank refuses exactly
what jsonschema refuses."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.credentials import _schema_view
from application.standards import PACKAGE_DIR, Standards
from domain.errors import InvalidCredential
from tests.builders import CredentialSpec, achievement_credential

STANDARDS = Standards()
# Text the schema's patterns and enums look at, and near misses (a trailing newline passes
# Python's "$" but not ECMA 262's; non-ASCII digits pass both engines' "\d").
TEXTS = [
    "en",
    "en-US",
    "en\n",
    "zh-Hans-CN",
    "ext:abc",
    "ext:",
    "a.b.c",
    "a..c",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.٠.٣.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json\n",
    "https://www.w3.org/ns/credentials/v2",
    "VerifiableCredential",
    "OpenBadgeCredential",
    "AchievementCredential",
    "AchievementSubject",
    "Achievement",
    "Profile",
    "Course",
    "ext:Course",
    "Result",
    "Completed",
    "2025-01-01T00:00:00Z",
    "",
]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.sampled_from(TEXTS)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(TEXTS) | st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def credential() -> dict[str, Any]:
    spec = CredentialSpec(
        issuer_uri="https://university.example.edu/issuer",
        document_number="D123456789012345",
        hours=40,
        result="A",
        term="2025 autumn",
        human_code="CS101",
    )
    view: dict[str, Any] = _schema_view(achievement_credential(spec))
    return view


def paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found += paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += paths(value, (*prefix, index))
    return found


def agree(document: Any) -> None:
    expected = STANDARDS._ob3.is_valid(document)
    if STANDARDS._ob3_compiled.is_valid(document):
        assert expected, json.dumps(document)[:2000]
    try:
        STANDARDS.check_achievement_credential(document)
    except InvalidCredential:
        assert not expected, json.dumps(document)[:2000]
    else:
        assert expected, json.dumps(document)[:2000]


def test_the_examples_agree() -> None:
    base = credential()
    assert STANDARDS._ob3.is_valid(base)
    agree(base)
    example = json.loads((PACKAGE_DIR / "examples" / "ob3-simple.json").read_text())
    agree(example)


@settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_one_edit_anywhere_and_both_validators_agree(data: st.DataObject) -> None:
    document = credential()
    path = data.draw(st.sampled_from(paths(document)), label="path")
    edit = data.draw(st.sampled_from(["replace", "remove", "add"]), label="edit")
    edited = copy.deepcopy(document)
    parent: Any = edited
    for step in path[:-1]:
        parent = parent[step]
    if not path:
        edited = data.draw(JSON, label="document")
    elif edit == "replace":
        parent[path[-1]] = data.draw(JSON, label="value")
    elif edit == "remove":
        del parent[path[-1]]
    else:
        target = parent[path[-1]]
        if isinstance(target, dict):
            target[data.draw(st.sampled_from(TEXTS), label="key")] = data.draw(JSON, label="v")
        elif isinstance(target, list):
            target.append(data.draw(JSON, label="item"))
    agree(edited)


def test_a_refusal_still_names_jsonschemas_errors() -> None:
    document = credential()
    document["credentialSubject"]["achievement"]["criteria"] = 5
    with pytest.raises(InvalidCredential) as refused:
        STANDARDS.check_achievement_credential(document)
    assert "credentialSubject/achievement/criteria: 5 is not of type 'object'" in str(
        refused.value.message
    )


@pytest.mark.parametrize("key", ["en", "en\n"])
def test_where_the_engines_differ_jsonschema_decides(key: str) -> None:
    """``id`` may be a map keyed by language tags (``^[a-z]{2}(-[A-Z]{2})?$``)."""
    document = credential()
    document["id"] = {key: "urn:example:1"}
    assert STANDARDS._ob3_compiled.is_valid(document) == (key == "en")
    assert STANDARDS._ob3.is_valid(document)
    STANDARDS.check_achievement_credential(document)  # accepted, as before the compiled one
