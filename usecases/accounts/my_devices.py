"""The caller's devices as the API manages them, each in one unit of work."""

from __future__ import annotations

from datetime import datetime, timezone

from db.engine import UnitOfWork
from pipeline.errors import NotFound
from usecases.accounts.devices import delete_own_device, device_view, list_devices, register_device
from usecases.ports import Ports


def register(ports: Ports, user_id: int, platform: str, token: str) -> tuple[dict, bool]:
    """The device as shown, and whether the token is new (a known token moves to the user)."""
    with UnitOfWork(ports.sessions) as uow:
        device, created = register_device(uow.session, user_id=user_id, platform=platform, token=token,
                                          now=datetime.now(timezone.utc))
        uow.commit()
    return device_view(device), created


def devices_of(ports: Ports, user_id: int, *, limit: int, cursor: str | None) -> dict:
    """Oldest first: `items` and `next_cursor`.

    Raises:
        BadRequest: a cursor that is not one of ours.
    """
    with UnitOfWork(ports.sessions) as uow:
        devices, next_cursor = list_devices(uow.session, user_id, limit=limit, cursor=cursor)
        return {"items": [device_view(d) for d in devices], "next_cursor": next_cursor}


def forget(ports: Ports, user_id: int, device_id: int) -> None:
    """Raises: NotFound: not one of the user's devices (anyone else's looks absent)."""
    with UnitOfWork(ports.sessions) as uow:
        if not delete_own_device(uow.session, user_id=user_id, device_id=device_id):
            raise NotFound(f"no device {device_id}")
        uow.commit()
