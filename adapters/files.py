"""Which files people attach are fetched with their message, for the platforms to share.

Only images go to the team (vision models see them); they are fetched when the message
arrives, since a platform's links expire (Discord) or need its token (Slack). An image larger
than the limit, the images past the count limit, and every other file are not fetched: the
event names them as :class:`~adapters.thread.SkippedFile`, so the team hears what it misses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from .thread import Attachment, SkippedFile

__all__ = ["MAX_IMAGES", "MAX_IMAGE_BYTES", "Offered", "fetch_images"]

MAX_IMAGE_BYTES = 8 * 1024 * 1024  # Discord's own upload limit for most servers; OpenAI takes up to 20 MB
MAX_IMAGES = 4  # a message's images travel in the kept event and the run's state: keep them few

F = TypeVar("F")


@dataclass(frozen=True, slots=True)
class Offered(Generic[F]):
    """A file on a message: its name, type and size, and the platform's handle to fetch it by."""

    name: str
    mime_type: str
    size: int
    handle: F


async def fetch_images(
    files: Sequence[Offered[F]],
    fetch: Callable[[F], Awaitable[bytes | None]],
    *,
    max_bytes: int = MAX_IMAGE_BYTES,
    max_count: int = MAX_IMAGES,
) -> tuple[tuple[Attachment, ...], tuple[SkippedFile, ...]]:
    """Fetch the images among ``files`` within the limits; name the rest.

    Args:
        files: what the message carries, in order.
        fetch: the platform's download of one file; None when it could not (it logs why).
        max_bytes: the largest image fetched.
        max_count: the most images fetched from one message.
    """
    fetched: list[Attachment] = []
    skipped: list[SkippedFile] = []
    for file in files:
        mime = file.mime_type.split(";")[0].strip().lower()
        if not mime.startswith("image/"):
            skipped.append(SkippedFile(file.name, mime, file.size, "not_image"))
        elif file.size > max_bytes:
            skipped.append(SkippedFile(file.name, mime, file.size, "too_large"))
        elif len(fetched) >= max_count:
            skipped.append(SkippedFile(file.name, mime, file.size, "too_many"))
        elif (data := await fetch(file.handle)) is None:
            skipped.append(SkippedFile(file.name, mime, file.size, "unreadable"))
        elif len(data) > max_bytes:  # the platform said less than it sent
            skipped.append(SkippedFile(file.name, mime, len(data), "too_large"))
        else:
            fetched.append(Attachment(file.name, mime, data))
    return tuple(fetched), tuple(skipped)
