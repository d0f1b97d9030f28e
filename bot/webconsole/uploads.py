"""Images a person attaches on the web thread's page, within the limits Slack's and Discord's have.

The form sends them as ``images`` (multipart). Each goes through the same checks as a
platform's files (:func:`adapters.files.fetch_images`): images only, up to 8 MiB each, 4 a
message; every file refused is named to the team and, in a note, to the person. A whole form
past :data:`UPLOAD_BYTES` is refused before anything is kept, with what the limits are.
"""

from __future__ import annotations

from typing import IO, Any

from aiohttp import web
from multidict import MultiMapping

from adapters import Attachment, SkippedFile
from adapters.files import MAX_IMAGE_BYTES, MAX_IMAGES, Offered, fetch_images

__all__ = ["FIELD", "TOO_LARGE", "UPLOAD_BYTES", "attached", "discard_files"]

FIELD = "images"
# the images a message may pass on, one more refused, and the form's words
UPLOAD_BYTES = (MAX_IMAGES + 1) * MAX_IMAGE_BYTES + 1024 * 1024
TOO_LARGE = (
    f"The files you attached are too large together (more than {UPLOAD_BYTES // 1024 // 1024} MiB): "
    f"attach up to {MAX_IMAGES} images of up to {MAX_IMAGE_BYTES // 1024 // 1024} MiB each."
)


async def attached(form: MultiMapping[Any]) -> tuple[tuple[Attachment, ...], tuple[SkippedFile, ...]]:
    """The images among the files of ``form`` within the limits, and the files refused, with why."""
    chosen = [f for f in form.getall(FIELD, []) if isinstance(f, web.FileField) and f.filename]
    offered = [Offered(f.filename, f.content_type, _size(f.file), f.file) for f in chosen]

    async def read(file: IO[bytes]) -> bytes:
        file.seek(0)
        return file.read(MAX_IMAGE_BYTES + 1)

    return await fetch_images(offered, read)


def _size(file: IO[bytes]) -> int:
    file.seek(0, 2)
    return file.tell()


def discard_files(form: MultiMapping[Any]) -> None:
    """Close the files ``form`` holds (aiohttp keeps each in a temporary file until then)."""
    for value in form.values():
        if isinstance(value, web.FileField):
            value.file.close()
