"""Devices: mobile users register the push tokens of their phones and browsers."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, StringConstraints

from usecases.accounts.devices import delete_own_device, device_view, list_devices, register_device
from db.engine import UnitOfWork
from pipeline.errors import NotFound
from web.auth.identity import caller, requires
from web.paging import page_limit
from web.requests import parse
from web.resources import resources

bp = Blueprint("devices", __name__, url_prefix="/v1/devices")


class RegisterDevice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: Literal["android", "ios", "web"]
    token: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]


@bp.post("")
@requires("mobile")
def register():
    """201 for a new token; 200 when the token was known (it moves to the caller)."""
    command, _ = parse(RegisterDevice)
    with UnitOfWork(resources().sessions) as uow:
        device, created = register_device(uow.session, user_id=caller().user_id, platform=command.platform,
                                          token=command.token, now=datetime.now(timezone.utc))
        uow.commit()
    return device_view(device), 201 if created else 200, {"Location": f"/v1/devices/{device.id}"}


@bp.get("")
@requires("mobile")
def list_own():
    """The caller's devices, oldest first, a page at a time."""
    with UnitOfWork(resources().sessions) as uow:
        devices, next_cursor = list_devices(uow.session, caller().user_id, limit=page_limit(),
                                            cursor=request.args.get("cursor") or None)
        return {"items": [device_view(d) for d in devices], "next_cursor": next_cursor}


@bp.delete("/<int:device_id>")
@requires("mobile")
def delete(device_id: int):
    """Forget one of the caller's devices; anyone else's is 404, as if absent."""
    with UnitOfWork(resources().sessions) as uow:
        if not delete_own_device(uow.session, user_id=caller().user_id, device_id=device_id):
            raise NotFound(f"no device {device_id}")
        uow.commit()
    return "", 204

