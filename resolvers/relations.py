"""One-to-one relations shared by every type, through an id loader."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from domain.ports import Loader

T = TypeVar("T")


async def load_one(loader: Loader[int, T | None], key: int | None) -> T | None:
    return None if key is None else await loader.load(key)
