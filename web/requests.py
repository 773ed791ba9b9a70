"""Reading request bodies: JSON only, validated by a pydantic model."""

from __future__ import annotations

from typing import TypeVar

from flask import request
from pydantic import BaseModel

from pipeline.errors import BadRequest, UnsupportedMediaType

Model = TypeVar("Model", bound=BaseModel)


def json_body() -> object:
    """The parsed JSON body.

    Raises:
        UnsupportedMediaType: the body is not declared as JSON.
        BadRequest: the body is not valid JSON.
    """
    if not request.is_json:
        raise UnsupportedMediaType("send the body as application/json")
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("the body is not valid JSON")
    return body


def parse(model: type[Model]) -> tuple[Model, object]:
    """The validated command and the raw body (for request fingerprints)."""
    body = json_body()
    return model.model_validate(body), body
