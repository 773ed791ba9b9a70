"""Devices: mobile users register the push tokens of their phones and browsers."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, request
from pydantic import BaseModel, ConfigDict, StringConstraints

from usecases.accounts import my_devices
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
    device, created = my_devices.register(resources().ports, caller().user_id, command.platform, command.token)
    return device, 201 if created else 200, {"Location": f"/v1/devices/{device['id']}"}


@bp.get("")
@requires("mobile")
def list_own():
    """The caller's devices, oldest first, a page at a time."""
    return my_devices.devices_of(resources().ports, caller().user_id, limit=page_limit(),
                                 cursor=request.args.get("cursor") or None)


@bp.delete("/<int:device_id>")
@requires("mobile")
def delete(device_id: int):
    """Forget one of the caller's devices; anyone else's is 404, as if absent."""
    my_devices.forget(resources().ports, caller().user_id, device_id)
    return "", 204
