"""uvicorn's HTTP/1.1 protocol, refusing requests it cannot parse with a problem, not text.

A request line h11 refuses (unencoded Japanese in a query string, a malformed header) never
reaches the application, so its 400 is written here. Serve with `http=ProblemH11Protocol`.
"""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.problems import PROBLEM_JSON, TYPE_BASE

#: what the client is told; uvicorn's own text ("Invalid HTTP request received.") says less
UNPARSABLE = {
    "type": TYPE_BASE + "unparsable-request",
    "title": "リクエストを読めません / Unparsable request",
    "status": 400,
    "detail": "HTTP リクエストとして読めません。URL の日本語などはパーセントエンコードして"
              "ください (curl なら -G --data-urlencode 'q=道路') (the request could not be"
              " parsed; percent-encode non-ASCII characters in the URL)",
}


class ProblemH11Protocol(H11Protocol):
    """H11Protocol whose 400 for an unparsable request is `application/problem+json`."""

    def send_400_response(self, msg: str) -> None:
        """Answer 400 with a problem and close, as uvicorn does with its plain text."""
        body = json.dumps(UNPARSABLE, ensure_ascii=False).encode()
        headers = [(b"content-type", PROBLEM_JSON.encode()),
                   (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                      h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()
