"""Baseline (b): what a vendor's CRUD system does with a need — validate, insert one row.

The same FastAPI, uvicorn and pydantic model (`api.needs.NeedIn`) as Tsunagi,
the same database helper (`infra.sql`), one plain table; no auth, no events, no views.
Usage: `python -m bench.crud --port P [--data-dir D | --database-url U]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from api.needs import NeedIn
from infra.sql import Database, open_database

SCHEMA = ("CREATE TABLE IF NOT EXISTS crud_needs (id TEXT PRIMARY KEY, ward TEXT NOT NULL,"
          " body TEXT NOT NULL, created_at TEXT NOT NULL)",)


def create_app(db: Database) -> FastAPI:
    """The one-endpoint app."""
    db.execute_script(SCHEMA)
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/needs", status_code=201)
    def record(body: NeedIn) -> dict[str, Any]:
        need_id = str(uuid.uuid4())
        data = body.model_dump(mode="json")
        with db.transaction() as tx:
            tx.execute("INSERT INTO crud_needs (id, ward, body, created_at) VALUES (?, ?, ?, ?)",
                       (need_id, body.ward, json.dumps(data, ensure_ascii=False),
                        datetime.now(UTC).isoformat()))
        return {"id": need_id, **data}

    return app


def main(argv: list[str] | None = None) -> int:
    """Serve the baseline on 127.0.0.1."""
    parser = argparse.ArgumentParser(prog="python -m bench.crud")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, default=Path("./var"))
    parser.add_argument("--database-url", default="")
    args = parser.parse_args(argv)
    db = open_database(args.database_url or args.data_dir / "crud.sqlite")
    # default logging (an access line per request), as `tsunagi serve` has
    uvicorn.run(create_app(db), host="127.0.0.1", port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
