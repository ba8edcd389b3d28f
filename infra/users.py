"""Users and their bearer tokens. Tokens are random and stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.permissions import ROLE_SCOPE, Actor, Role
from domain.reference import CityData
from infra.sql import Database

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS users ("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,"
    " ward TEXT, office TEXT, department TEXT,"
    " token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT)",
)


class UserError(Exception):
    """A user cannot be added as asked (bad role or scope, unknown user)."""


@dataclass(frozen=True)
class User:
    """A user as listed for administrators (never with the token)."""

    id: str
    name: str
    role: str
    ward: str | None
    office: str | None
    department: str | None
    created_at: str
    revoked_at: str | None

    def actor(self) -> Actor:
        """The user as the domain sees them."""
        return Actor(self.id, self.name, Role(self.role), self.ward, self.office,
                     self.department)


def hash_token(token: str) -> str:
    """SHA-256 of a token (tokens are 256-bit random, so no slow hash is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


class UserStore:
    """Adds, lists, revokes and authenticates users."""

    def __init__(self, db: Database, city: CityData) -> None:
        self.db = db
        self.city = city
        db.execute_script(SCHEMA)

    def add(self, name: str, role: str, ward: str | None = None, office: str | None = None,
            department: str | None = None, user_id: str | None = None) -> tuple[User, str]:
        """Create a user; returns the user and their token (shown once, never stored)."""
        ward, office, department = self._check_scope(role, ward, office, department)
        token = secrets.token_urlsafe(32)
        user = User(user_id or str(uuid.uuid4()), name, role, ward, office, department,
                    datetime.now(UTC).isoformat(), None)
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO users (id, name, role, ward, office, department, token_hash,"
                       " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (user.id, name, role, ward, office, department, hash_token(token),
                        user.created_at))
        return user, token

    def _check_scope(self, role: str, ward: str | None, office: str | None,
                     department: str | None) -> tuple[str | None, str | None, str | None]:
        try:
            scope = ROLE_SCOPE[Role(role)]
        except ValueError:
            raise UserError(f"unknown role '{role}'; one of: "
                            f"{', '.join(r.value for r in Role)}") from None
        if scope == "office":
            found = self.city.office(office or "")
            if found is None:
                raise UserError(f"role {role} needs --office with a known office id")
            if ward is not None and ward != found.ward:
                raise UserError(f"office {office} is not in ward {ward}")
            return found.ward, office, None
        if scope == "ward":
            if self.city.ward(ward or "") is None:
                raise UserError(f"role {role} needs --ward with a known ward id")
            return ward, None, None
        if scope == "department":
            if self.city.department(department or "") is None:
                raise UserError(f"role {role} needs --department with a known department id")
            return None, None, department
        return None, None, None

    def authenticate(self, token: str) -> User | None:
        """The active user holding this token, if any."""
        with self.db.transaction() as tx:
            tx.execute(f"SELECT {_COLUMNS} FROM users WHERE token_hash = ?"
                       " AND revoked_at IS NULL", (hash_token(token),))
            row = tx.fetchone()
        return User(*row) if row else None

    def list(self) -> list[User]:
        """Every user, oldest first."""
        with self.db.transaction() as tx:
            tx.execute(f"SELECT {_COLUMNS} FROM users ORDER BY created_at, id")
            return [User(*r) for r in tx.fetchall()]

    def get(self, user_id: str) -> User | None:
        """One user by id."""
        with self.db.transaction() as tx:
            tx.execute(f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
            row = tx.fetchone()
        return User(*row) if row else None

    def revoke(self, user_id: str) -> User:
        """Revoke a user's token; their past acts stay attributed to them."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE users SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                       (datetime.now(UTC).isoformat(), user_id))
            changed = tx.rowcount
        user = self.get(user_id)
        if user is None:
            raise UserError(f"no user with id {user_id}")
        if not changed:
            raise UserError(f"user {user_id} was already revoked")
        return user


_COLUMNS = "id, name, role, ward, office, department, created_at, revoked_at"
