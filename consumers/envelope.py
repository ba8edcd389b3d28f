"""The message of an event on Kafka (`tsunagi.event/v1`), written and read back.

Reading stands alone: `decode` needs only the transcoder of `transcoder()` and the
domain's event classes, not the application (no vault, no calendar, no store).
Writing has two ways to the same bytes: `encode` from a domain event, and
`encode_stored` (the relay's) from the event's JSON as the log stores it, which skips
turning it into typed values and back.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from eventsourcing.utils import resolve_topic

from domain.application import DateAsISO, event_type_name
from domain.need import Need
from domain.observation import Observation
from domain.proposal import Proposal
from projections.base import Event

SCHEMA = "tsunagi.event/v1"
#: the aggregates whose events travel, by the `aggregate_type` their messages carry
AGGREGATES: dict[str, type[Need] | type[Proposal] | type[Observation]] = {
    "Need": Need, "Proposal": Proposal, "Observation": Observation}
#: the key's ward part for what belongs to no ward (a city-wide indicator observation);
#: not a slug, so it never meets a real ward's id
CITY_WIDE = "_city"
#: attributes of every event that the envelope carries at its top level, not in `data`
_ENVELOPE = ("originator_id", "originator_version", "timestamp", "effective_at", "actor")
#: names the id of an event: the same event published twice carries the same id
_EVENT_IDS = uuid.UUID("0b7e4a8e-5a0f-4f7e-8d9c-1f2e3d4c5b6a")
#: `json.dumps(value, ensure_ascii=False)` without making an encoder per message
_DUMPS = json.JSONEncoder(ensure_ascii=False).encode


def transcoder() -> JSONTranscoder:
    """The transcoder of Tsunagi's log (the library's types, plus `date`)."""
    t = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), DateAsISO()):
        t.register(transcoding)
    return t


@dataclass(frozen=True)
class Route:
    """Where an event belongs: its city and ward, hence its key."""

    city: str
    ward: str

    @property
    def key(self) -> str:
        """The Kafka key `<city>:<ward>`: one ward's events keep their order."""
        return f"{self.city}:{self.ward}"


@dataclass(frozen=True)
class Message:
    """An event read back from Kafka."""

    position: int
    route: Route
    event: Event


class BadMessage(Exception):
    """A message that is not a Tsunagi event we can read: skipped and counted."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def encode(position: int, event: Event, route: Route, codec: JSONTranscoder) -> tuple[bytes,
                                                                                      bytes]:
    """The key and value of the message for the event at `position`."""
    state = {k: v for k, v in event.__dict__.items() if k not in _ENVELOPE}
    aggregate_type = type(event).__qualname__.split(".")[0]
    value = {
        "schema": SCHEMA,
        "event_id": _event_id(f"{event.originator_id}:{event.originator_version}"),
        "position": position,
        "type": event_type_name(event),
        "aggregate_type": aggregate_type,
        "aggregate_id": str(event.originator_id),
        "aggregate_version": event.originator_version,
        "city": route.city,
        "ward": route.ward,
        "effective_at": _instant(getattr(event, "effective_at", None)),
        "recorded_at": _instant(event.timestamp),  # type: ignore[attr-defined]
        "actor": getattr(event, "actor", None),
        # typed values (dates, UUIDs) keep the transcoder's {"_type_", "_data_"} form
        "data": json.loads(codec.encode(state)),
    }
    return route.key.encode(), _DUMPS(value).encode()


@dataclass(frozen=True)
class Kind:
    """What an event's class gives its envelope: `type` and `aggregate_type`."""

    type: str
    aggregate_type: str


def stored_kind(topic: str) -> Kind | None:
    """The kind of a stored event's class (from its topic); None when its stored state is
    not its state as it stands (an upcast class), so only `encode` may read it."""
    cls = resolve_topic(topic)
    if getattr(cls, "class_version", 1) != 1:
        return None
    name = cls.__qualname__
    return Kind(name.replace(".", ""), name.split(".")[0])  # as `event_type_name` does


def encode_stored(position: int, aggregate_id: uuid.UUID, version: int, kind: Kind,
                  state: dict[str, Any], route: Route) -> tuple[bytes, bytes] | None:
    """The bytes `encode` makes, from the event's stored JSON parsed as plain JSON (`state`,
    which this takes apart); None when `state` holds something `encode` would write
    differently, so the caller goes the domain event's way.

    `data` is the same: the transcoder writes typed values as `{"_type_", "_data_"}`, and
    decoding then encoding them again gives the very same `_data_` (ISO dates, hex UUIDs,
    decimals as strings), so the stored JSON already is what `encode` would write.
    """
    timestamp = state.pop("timestamp", None)
    effective_at = state.pop("effective_at", None)
    actor = state.pop("actor", None)
    recorded_at = _iso(timestamp)
    if recorded_at is None or (effective_at is not None and _iso(effective_at) is None) \
            or not (actor is None or isinstance(actor, str)) or not isinstance(aggregate_id,
                                                                               uuid.UUID):
        return None
    identity = str(aggregate_id)
    value = {
        "schema": SCHEMA,
        "event_id": _event_id(f"{identity}:{version}"),
        "position": position,
        "type": kind.type,
        "aggregate_type": kind.aggregate_type,
        "aggregate_id": identity,
        "aggregate_version": version,
        "city": route.city,
        "ward": route.ward,
        "effective_at": _iso(effective_at),
        "recorded_at": recorded_at,
        "actor": actor,
        "data": state,
    }
    return route.key.encode(), _DUMPS(value).encode()


def _iso(value: Any) -> str | None:
    """A stored datetime's ISO text (the transcoder writes `isoformat()`); None otherwise."""
    if type(value) is dict and len(value) == 2 and value.get("_type_") == "datetime_iso":
        data = value.get("_data_")
        return data if isinstance(data, str) else None
    return None


def _event_id(name: str) -> str:
    """`str(uuid.uuid5(_EVENT_IDS, name))`, without making the two UUID objects."""
    digest = bytearray(hashlib.sha1(_EVENT_IDS.bytes + name.encode(),
                                    usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def decode(value: bytes, codec: JSONTranscoder) -> Message:
    """The event inside a message; `BadMessage` when it is not one."""
    try:
        body = json.loads(value)
    except (ValueError, TypeError) as exc:
        raise BadMessage("invalid-json", str(exc)) from exc
    if not isinstance(body, dict) or body.get("schema") != SCHEMA:
        schema = body.get("schema") if isinstance(body, dict) else None
        raise BadMessage("unknown-schema", repr(schema))
    try:
        aggregate = AGGREGATES[body["aggregate_type"]]
        name = body["type"].removeprefix(body["aggregate_type"])
        cls = getattr(aggregate, name)
        if not (isinstance(cls, type) and issubclass(cls, aggregate.Event)):
            raise BadMessage("unknown-type", body["type"])
        state: dict[str, Any] = codec.decode(json.dumps(body["data"]).encode())
        state.update(originator_id=uuid.UUID(body["aggregate_id"]),
                     originator_version=int(body["aggregate_version"]),
                     timestamp=datetime.fromisoformat(body["recorded_at"]))
        if body["effective_at"] is not None:
            state["effective_at"] = datetime.fromisoformat(body["effective_at"])
        if body["actor"] is not None:
            state["actor"] = body["actor"]
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)  # as the library's mapper does
        return Message(int(body["position"]), Route(body["city"], body["ward"]), event)
    except BadMessage:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadMessage("malformed", f"{type(exc).__name__}: {exc}") from exc


def _instant(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
