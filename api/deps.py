"""FastAPI dependencies: the container, the signed-in actor, `If-Match`, `min_position`."""

from __future__ import annotations

import re
import time
import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.middleware import KNOWN_USER, in_thread
from api.problems import ServiceUnavailable
from consumers.feeds import ViewFeed
from domain.permissions import Actor
from wiring.bootstrap import Container

_bearer = HTTPBearer(auto_error=False, description="A token from `tsunagi users add`")
#: a version of up to 18 digits fits an int64
_ETAG = re.compile(r'^\s*(?:W/)?"([0-9]{1,18})"\s*$')
IF_MATCH_PATTERN = r'^((W/)?"[0-9]{1,18}"|[*])$'

#: namespace for ids derived from Idempotency-Key, so a retry meets the same aggregate
#: the largest log position a client may name (a BIGINT, with room to spare)
MAX_POSITION = 2**62
IDEMPOTENT_IDS = uuid.UUID("6f1c1a52-2f4e-4d8e-9a61-7a2b3c4d5e6f")


# The dependencies that neither block nor touch a database are `async def`: FastAPI runs a
# plain `def` dependency in a worker thread, a hop that costs more than the work itself.

async def container(request: Request) -> Container:
    """The application's container."""
    c: Container = request.app.state.container
    return c


ContainerDep = Annotated[Container, Depends(container)]


async def current_actor(
    request: Request,
    c: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The user behind the bearer token, or 401.

    A token `Idempotency` already looked up in this request is not looked up again.
    """
    unauthenticated = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(401, "Authorization: Bearer <token> が必要です"
                                 " (a bearer token is required)", headers=unauthenticated)
    token = credentials.credentials
    known = request.scope.get("state", {}).get(KNOWN_USER)
    if known is not None and known[0] == token:
        user = known[1]
    else:
        user = await in_thread(c.users.authenticate, token)
    if user is None:
        raise HTTPException(401, "トークンが無効です (the token is not valid or was revoked)",
                            headers=unauthenticated)
    return user.actor()


ActorDep = Annotated[Actor, Depends(current_actor)]


async def expected_version(
    if_match: Annotated[str | None, Header(
        description='`"<version>"` from the ETag (a weak `W/"<version>"` too), or `*`',
        pattern=IF_MATCH_PATTERN, max_length=200)] = None,
) -> int | None:
    """The version named by `If-Match`; anything else is refused by its pattern (422)."""
    if if_match is None or if_match.strip() == "*":
        return None  # `*` matches any current version
    found = _ETAG.match(if_match)
    return int(found.group(1)) if found else -1


IfMatchDep = Annotated[int | None, Depends(expected_version)]


async def creation_id(
    request: Request,
    actor: ActorDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> uuid.UUID | None:
    """The id a creation will take: derived from the key, so a retry meets the same record.

    Keys are scoped per user, method and path, so the id is too: one key on `POST /needs`
    and on `POST /proposals` names two records.
    """
    if idempotency_key is None:
        return None
    scope = f"{actor.id}:{request.method}:{request.url.path}:{idempotency_key}"
    return uuid.uuid5(IDEMPOTENT_IDS, scope)


CreationIdDep = Annotated[uuid.UUID | None, Depends(creation_id)]


class _WaitForViews:
    """Holds a read until the views it names reflect `min_position`.

    A read of a view stopped by a failing event answers 503 at once, naming the view.
    """

    def __init__(self, *views: str) -> None:
        self.views = views

    def __call__(
        self,
        c: ContainerDep,
        min_position: Annotated[int | None, Query(ge=0, le=MAX_POSITION,
                                                  description="Answer once the view"
                                                  " has processed this log position")] = None,
    ) -> None:
        feed = c.view_feed
        deadline = time.monotonic() + c.settings.min_position_wait
        for view in self.views:
            _refuse_stopped(feed, view)
            if min_position is None:
                continue
            if not feed.wait_for(view, min_position, max(deadline - time.monotonic(), 0)):
                _refuse_stopped(feed, view)
                raise ServiceUnavailable(
                    f"ビュー {view} はまだ位置 {min_position} まで反映されていません (view {view}"
                    f" at {feed.position(view)}, asked for {min_position}); retry shortly")


def _refuse_stopped(feed: ViewFeed, view: str) -> None:
    failure = feed.failure(view)
    if failure is not None:
        raise ServiceUnavailable(
            f"ビュー {view} は位置 {failure.position} のイベント ({failure.event_type})"
            f" で停止しています。管理者に連絡してください (view {view} stopped at position"
            f" {failure.position} on {failure.event_type}; operators can see it in /healthz)",
            retry_after=60)


def wait_for_views(
    c: ContainerDep,
    min_position: Annotated[int | None, Query(
        ge=0, le=MAX_POSITION, description="Answer once the views have processed this log"
                                           " position")]
    = None,
) -> None:
    """Hold a read until every view reflects `min_position` (for reads of several views)."""
    _WaitForViews(*(v.name for v in c.views))(c, min_position)


def FreshView(*views: str) -> Any:
    """`dependencies=[FreshView("needs_index")]`: the read waits for the views it reads only."""
    return Depends(_WaitForViews(*views))


def log_reached(
    c: ContainerDep,
    min_position: Annotated[int | None, Query(ge=0, le=MAX_POSITION)] = None,
) -> None:
    """Reads of one record come from the log itself; it must hold `min_position`."""
    if min_position is not None and c.app.position() < min_position:
        raise ServiceUnavailable(f"位置 {min_position} はまだ記録されていません"
                                 " (that log position does not exist yet)")


FreshViews = Depends(wait_for_views)
FreshLog = Depends(log_reached)
