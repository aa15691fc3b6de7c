"""``creditbank intake build`` and ``creditbank intake upload`` end to end: a CSV signed into
NDJSON on the institution's side, then streamed to a small stand-in for the bank's intake
protocol (``POST /intake`` -> 202 {"id"}, then ``intakeJob`` over GraphQL: QUEUED, RUNNING,
DONE) served on a free loopback port by this test."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from typer.testing import CliRunner

from api.cli import cli
from application.issuing import IssuerKey

URI = "https://huadong.example.edu/issuer"
TOKEN = "institution-token"
TEMPLATE = """
[columns]
learner_id = "learner"
identity_number = "证件号码"
course_code = "code"
title = "课程名称"
credits = "credits"
grade = "grade"

[constants]
term = "2024-2025 第一学期"
valid_from = "2025-01-20"
issuer_name = "华东大学"
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    key = IssuerKey.ed25519("huadong-2025")
    pem, _ = key.save(tmp_path / "keys", "huadong")
    template = tmp_path / "grades.toml"
    template.write_text(TEMPLATE, encoding="utf-8")
    rows = ["learner,证件号码,code,课程名称,credits,grade"]
    for n in range(120):  # about 130 kB of NDJSON: more than one of upload's 64 kB chunks
        rows.append(
            f"{uuid.uuid4()},1101051990030{n:05d},CS-{n:03d},数据结构 Data Structures {n},3,A"
        )
    grades = tmp_path / "grades.csv"
    grades.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    return {"key": pem, "template": template, "csv": grades, "out": tmp_path / "grades.ndjson"}


def build_args(files: dict[str, Path], *extra: str) -> list[str]:
    return [
        "intake",
        "build",
        "--csv",
        str(files["csv"]),
        "--template",
        str(files["template"]),
        "--key",
        str(files["key"]),
        "--issuer",
        URI,
        "--out",
        str(files["out"]),
        *extra,
    ]


# -- build ----------------------------------------------------------------------------------------
def test_build_writes_one_signed_line_per_row(files: dict[str, Path]) -> None:
    result = CliRunner().invoke(cli, build_args(files))
    assert result.exit_code == 0, result.output
    assert f"wrote 120 credentials to {files['out']}" in result.stdout
    lines = files["out"].read_text(encoding="utf-8").splitlines()
    assert len(lines) == 120
    first = json.loads(lines[0])
    payload = jwt.decode(first["credential"], options={"verify_signature": False})
    assert jwt.get_unverified_header(first["credential"])["kid"] == "huadong-2025"
    assert payload["iss"] == URI
    assert payload["name"] == "数据结构 Data Structures 0"
    assert payload["validFrom"] == "2025-01-20T00:00:00Z"
    uuid.UUID(first["learnerId"])
    # Built again: the same credential ids, line by line.
    again = CliRunner().invoke(cli, build_args(files))
    assert again.exit_code == 0, again.output
    ids = [
        jwt.decode(json.loads(line)["credential"], options={"verify_signature": False})["jti"]
        for line in files["out"].read_text(encoding="utf-8").splitlines()
    ]
    assert ids == [
        jwt.decode(json.loads(line)["credential"], options={"verify_signature": False})["jti"]
        for line in lines
    ]


def test_build_with_a_bad_row_writes_nothing(files: dict[str, Path]) -> None:
    files["out"].write_text("what was there\n", encoding="utf-8")
    text = files["csv"].read_text(encoding="utf-8-sig").replace(",3,A\n", ",abc,A\n", 1)
    files["csv"].write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, build_args(files))
    assert result.exit_code == 1
    assert 'row 1 (line 2), column "credits": "abc" is not a number' in result.stderr
    assert "1 of 120 rows cannot be built: nothing written" in result.stderr
    assert files["out"].read_text(encoding="utf-8") == "what was there\n"
    assert sorted(p.name for p in files["out"].parent.iterdir() if "partial" in p.name) == []
    skipped = CliRunner().invoke(cli, build_args(files, "--skip-bad"))
    assert skipped.exit_code == 0, skipped.output
    assert "skipped 1 of 120 rows (--skip-bad)" in skipped.stderr
    assert len(files["out"].read_text(encoding="utf-8").splitlines()) == 119


def test_build_tells_a_template_problem(files: dict[str, Path]) -> None:
    files["template"].write_text(TEMPLATE.replace("title", "titel"), encoding="utf-8")
    result = CliRunner().invoke(cli, build_args(files))
    assert result.exit_code == 1
    assert 'template grades.toml: unknown field "titel" in [columns]' in result.stderr
    assert not files["out"].exists()
    assert "Traceback" not in result.output


# -- upload, against a stand-in for the bank ------------------------------------------------------
class Bank:
    """What the stand-in received, and the job answers it gives in turn."""

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers = answers
        self.body = b""
        self.headers: dict[str, str] = {}
        self.polls = 0


def _handler(bank: Bank) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                error = {
                    "message": "the token is not valid",
                    "extensions": {"code": "UNAUTHENTICATED"},
                }
                self._answer(401, {"data": None, "errors": [error]})
                return
            if self.path == "/intake":
                bank.body, bank.headers = body, dict(self.headers)
                self._answer(202, {"id": "job-7"})
            elif self.path == "/graphql":
                request = json.loads(body)
                assert request["variables"] == {"id": "job-7"}
                assert "intakeJob(id: $id)" in request["query"]
                answer = bank.answers[min(bank.polls, len(bank.answers) - 1)]
                bank.polls += 1
                self._answer(200, answer)
            else:
                self._answer(404, {"error": "NOT_FOUND"})

    return Handler


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(bank: Bank) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(bank))
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def job(
    state: str, total: int | None, processed: int, refusals: tuple[dict[str, Any], ...] = ()
) -> dict[str, Any]:
    accepted = processed - len(refusals) if state in ("DONE", "FAILED") else 0
    return {
        "data": {
            "intakeJob": {
                "state": state,
                "total": total,
                "processed": processed,
                "accepted": accepted,
                "refused": len(refusals),
                "refusals": {"edges": [{"node": r} for r in refusals]},
            }
        }
    }


REFUSAL = {
    "line": 17,
    "code": "DUPLICATE_CREDENTIAL",
    "message": "this credential was already deposited",
}


def upload(path: Path, url: str, token: str = TOKEN) -> Any:
    return CliRunner().invoke(
        cli, ["intake", "upload", str(path), "--url", url, "--token", token, "--poll", "0.05"]
    )


def test_upload_streams_the_file_and_follows_the_job(files: dict[str, Path], serve: Any) -> None:
    assert CliRunner().invoke(cli, build_args(files)).exit_code == 0
    sent = files["out"].read_bytes()
    assert len(sent) > 64 * 1024
    bank = Bank(
        [job("QUEUED", None, 0), job("RUNNING", 120, 40), job("DONE", 120, 120, (REFUSAL,))]
    )
    result = upload(files["out"], serve(bank))
    assert result.exit_code == 0, result.output
    assert bank.body == sent  # every byte, in order
    assert bank.body.decode().splitlines() == sent.decode().splitlines()
    assert bank.headers["Content-Type"] == "application/x-ndjson"
    assert bank.headers["Content-Length"] == str(len(sent))
    assert bank.polls == 3
    assert "job job-7" in result.stdout
    assert "DONE: 120 lines, 119 accepted, 1 refused" in result.stdout
    assert "line 17: DUPLICATE_CREDENTIAL: this credential was already deposited" in result.stdout


def test_a_failed_job_exits_1(files: dict[str, Path], serve: Any) -> None:
    files["out"].write_text('{"learnerId": "x", "credential": "y"}\n', encoding="utf-8")
    bank = Bank([job("RUNNING", 1, 0), job("FAILED", 1, 0)])
    result = upload(files["out"], serve(bank))
    assert result.exit_code == 1
    assert "FAILED: 1 lines, 0 accepted, 0 refused" in result.stdout
    assert "the intake job FAILED" in result.stderr


def test_an_unauthorised_upload_exits_1_with_the_banks_message(
    files: dict[str, Path], serve: Any
) -> None:
    files["out"].write_text('{"learnerId": "x", "credential": "y"}\n', encoding="utf-8")
    bank = Bank([job("DONE", 1, 1)])
    result = upload(files["out"], serve(bank), token="stolen")
    assert result.exit_code == 1
    assert (
        "the bank refused the upload: HTTP 401 Unauthorized: UNAUTHENTICATED: the token is not "
        "valid" in result.stderr
    )
    assert "Traceback" not in result.output
    assert bank.polls == 0


def test_a_graphql_error_exits_1(files: dict[str, Path], serve: Any) -> None:
    files["out"].write_text('{"learnerId": "x", "credential": "y"}\n', encoding="utf-8")
    error = {"message": "no such job", "extensions": {"code": "NOT_FOUND"}}
    bank = Bank([{"data": None, "errors": [error]}])
    result = upload(files["out"], serve(bank))
    assert result.exit_code == 1
    assert "the bank refused to tell the job: NOT_FOUND: no such job" in result.stderr


def test_no_bank_there_exits_1(files: dict[str, Path], serve: Any) -> None:
    files["out"].write_text("{}\n", encoding="utf-8")
    url = serve(Bank([]))  # a port that was free ...
    closed = url.replace(url.rsplit(":", 1)[1], "1/")  # ... and one nothing listens on
    result = upload(files["out"], closed)
    assert result.exit_code == 1
    assert "cannot reach http://127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.output
