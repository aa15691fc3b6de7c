"""An issuer's web server publishing its status lists, served locally (http.server), and the
credentials that point at them: for the incoming-status tests (the ``publisher`` fixture is in
this folder's conftest)."""

from __future__ import annotations

import base64
import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from application.issuing import sign_vc_jwt
from tests.builders import Issuer, Learner, World


class Publisher:
    """What the issuer's web server answers: path -> (status, body, headers); hits counted."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.hits: dict[str, int] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                status, body, headers = outer.pages.get(self.path, (404, b"", {}))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def encoded(revoked: set[int], size: int = 131_072) -> str:
    bits = bytearray(size // 8)
    for i in revoked:
        bits[i // 8] |= 0x80 >> (i % 8)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits))).decode().rstrip("=")


def status_list(issuer: Issuer, url: str, revoked: set[int], **subject: Any) -> bytes:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.uri,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": url + "#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded(revoked),
            **subject,
        },
    }
    return sign_vc_jwt(credential, issuer.keys).encode()


def with_status(world: World, issuer: Issuer, learner: Learner, status: dict[str, Any]) -> str:
    credential = world.credential(issuer, learner)
    credential["credentialStatus"] = status
    return sign_vc_jwt(credential, issuer.keys)


def entry(url: str, index: int) -> dict[str, Any]:
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": url,
    }
