"""A semester close from a registrar's CSV to the learners' balances, with the real commands
against the served bank, on both engines: ``creditbank intake build`` signs the grades where the
key lives, ``creditbank intake upload`` streams them to ``POST /intake`` and follows the job, and
the balances show the recognised credits; the same upload again changes nothing."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from api.cli import cli
from tests.api.conftest import LearnerRef, World

TEMPLATE = """
[columns]
learner_id      = "银行学号 Bank ID"
identity_number = "证件号码 ID number"
course_code     = "课程代码 Code"
title           = "课程名称 Title"
credits         = "学分 Credits"
grade           = "成绩 Grade"
completed_on    = "结课日期 Ended"

[constants]
term          = "2025-2026 第一学期"
valid_from    = 2026-01-20T09:00:00+08:00
kind          = "Course"
level         = 6
result_status = "Completed"
issuer_name   = "Huadong University"
"""
COLUMNS = (
    "银行学号 Bank ID",
    "证件号码 ID number",
    "课程代码 Code",
    "课程名称 Title",
    "学分 Credits",
    "成绩 Grade",
    "结课日期 Ended",
)
COURSES = [("CS-201", "数据结构 Data Structures", "3", "A-"), ("MA-101", "高等数学", "5", "92")]


def balance(world: World, learner: LearnerRef) -> Decimal:
    data = world.gql(
        "query($id: ID!) { learner(id: $id) { account { balance { total } } } }",
        {"id": learner.id},
        learner.token,
    ).ok()
    return Decimal(str(data["learner"]["account"]["balance"]["total"]))


def settled(world: World, learners: list[LearnerRef], expected: Decimal) -> dict[str, Decimal]:
    """The balances once the views show the upload (they follow the worker shortly after)."""
    deadline = time.monotonic() + 30
    while True:
        found = {lr.id: balance(world, lr) for lr in learners}
        if all(v == expected for v in found.values()) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_a_registrars_csv_becomes_balances(world: World, tmp_path: Path) -> None:
    uni = world.university
    key, _ = uni.keys.save(tmp_path / "keys", "huadong")
    learners = [world.learner() for _ in range(3)]
    before = {lr.id: balance(world, lr) for lr in learners}
    assert set(before.values()) == {Decimal(0)}
    header = ",".join(COLUMNS)
    rows = [
        f"{lr.id},{lr.document_number},{code},{title},{credits},{grade},2026-01-10"
        for lr in learners
        for code, title, credits, grade in COURSES
    ]
    grades = tmp_path / "grades.csv"
    grades.write_text("\ufeff" + "\n".join([header, *rows]) + "\n", encoding="utf-8")
    template = tmp_path / "registrar.toml"
    template.write_text(TEMPLATE, encoding="utf-8")
    out = tmp_path / "autumn.ndjson"
    runner = CliRunner()

    built = runner.invoke(
        cli,
        [
            "intake", "build", "--csv", str(grades), "--template", str(template),
            "--key", str(key), "--kid", uni.keys.kid, "--issuer", uni.issuer_uri,
            "--out", str(out),
        ],
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6
    assert {json.loads(line)["learnerId"] for line in lines} == {lr.id for lr in learners}

    token = world.institution_token(uni)
    upload = ["intake", "upload", str(out), "--url", world.served.base_url, "--token", token]
    sent = runner.invoke(cli, [*upload, "--poll", "0.1"])
    assert sent.exit_code == 0, sent.output
    assert "DONE: 6 lines, 6 accepted, 0 refused" in sent.output
    expected = sum((Decimal(c[2]) for c in COURSES), Decimal(0))  # 8 credits each, recognised
    assert settled(world, learners, expected) == {lr.id: expected for lr in learners}

    again = runner.invoke(cli, [*upload, "--poll", "0.1"])
    assert again.exit_code == 0, again.output
    assert "DONE: 6 lines, 6 accepted, 0 refused" in again.output  # held already: accepted
    assert settled(world, learners, expected) == {lr.id: expected for lr in learners}
    print(f"\n{built.output}{sent.output}")
