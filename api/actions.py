"""One POST route per act, its body model declared for OpenAPI and validation.

A body whose fields are all optional may be left out (`submit`, `start-review`,
`triage` …), so clients need not send `{}`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from api.deps import ActorDep, ContainerDep, IfMatchDep
from api.schemas import Command, problem_responses
from domain.permissions import Actor
from wiring.bootstrap import Container

Run = Callable[[UUID, Command, Container, Actor, int | None], JSONResponse]


def add_action(router: APIRouter, *, id_name: str, action: str, model: type[Command],
               summary: str, run: Run, response_model: type[Any]) -> None:
    """Register `POST /{id}/{action}` taking `model` and answering `response_model`."""
    optional = all(not f.is_required() for f in model.model_fields.values())

    def handler(**kwargs: Any) -> JSONResponse:
        body = kwargs["body"] if kwargs["body"] is not None else model()
        return run(kwargs[id_name], body, kwargs["c"], kwargs["actor"], kwargs["version"])

    kw = inspect.Parameter.KEYWORD_ONLY
    body = (inspect.Parameter("body", kw, annotation=Annotated[model | None, Body()],
                              default=None) if optional
            else inspect.Parameter("body", kw, annotation=model))
    handler.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter(id_name, kw, annotation=UUID), body,
        inspect.Parameter("c", kw, annotation=ContainerDep),
        inspect.Parameter("actor", kw, annotation=ActorDep),
        inspect.Parameter("version", kw, annotation=IfMatchDep),
    ])
    handler.__doc__ = summary
    handler.__name__ = f"{id_name.split('_')[0]}_{action.replace('-', '_')}"
    router.add_api_route(f"/{{{id_name}}}/{action}", handler, methods=["POST"],
                         response_model=response_model, summary=summary,
                         name=handler.__name__,
                         responses=problem_responses(400, 401, 403, 404, 409, 412, 413, 422))
