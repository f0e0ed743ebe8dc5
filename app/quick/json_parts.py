"""JSON answers written in parts: the bytes FastAPI would write, but CHUNK numbers at a time, each part its own
write, so that a long answer does not hold the event loop (or the GIL) for the whole of it."""
import typing
from functools import cache

from fastapi.responses import Response
from pydantic import BaseModel, TypeAdapter


@cache
def _adapter(annotation) -> TypeAdapter:
    return TypeAdapter(annotation)


def _dump(annotation, content) -> bytes:
    adapter = _adapter(annotation)
    return adapter.dump_json(adapter.validate_python(content, from_attributes=True), by_alias=True)


# Numbers pydantic checks and writes in one call: about a millisecond, during which it holds the GIL.
CHUNK = 20_000


def _numbers(value) -> int:
    """About how many numbers `value` holds (each list's first item taken as typical)."""
    if isinstance(value, list):
        return len(value) * _numbers(value[0]) if value else 1
    if isinstance(value, dict):
        return sum(_numbers(v) for v in value.values())
    return 1


def _list_item(annotation):
    """X of list[X] (or of list[X] | None); None for anything else."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(candidate) is list:
            return typing.get_args(candidate)[0]
    return None


def _dump_list(annotation, value: list) -> list[bytes]:
    """The JSON of a long list in parts of about CHUNK numbers: the same bytes as one call would write, joined."""
    item = _list_item(annotation)
    parts, group, size = [b"["], [], 0

    def flush() -> None:
        nonlocal group, size
        if group:
            parts.extend((_dump(annotation, group)[1:-1], b","))
            group, size = [], 0

    for v in value:
        n = _numbers(v)
        if n > CHUNK and isinstance(v, list) and _list_item(item) is not None:  # a long list itself: in parts
            flush()
            parts.extend((*_dump_list(item, v), b","))
        else:
            if size + n > CHUNK:
                flush()
            group.append(v)
            size += n
    flush()
    if len(parts) > 1:
        parts.pop()  # the last comma
    parts.append(b"]")
    return parts


class Parts(Response):
    """An answer sent in parts, each its own write, so that the event loop serves other clients between them; with
    its Content-Length, like any other answer."""

    def __init__(self, parts: list[bytes], status_code: int = 200, media_type: str = "application/json"):
        self.parts = parts
        super().__init__(None, status_code=status_code, media_type=media_type)
        self.headers["content-length"] = str(sum(map(len, parts)))

    async def __call__(self, scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        for part in self.parts:
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


def _long_lists(model, content: dict, path: tuple = ()) -> list[tuple[tuple, object]]:
    """(path, annotation) of the fields of `model` in `content`, and of its nested models, that hold lists of more
    than CHUNK numbers."""
    found = []
    for name, field in model.model_fields.items():
        value = content.get(name) if isinstance(content, dict) else None
        if isinstance(value, list) and _list_item(field.annotation) is not None and _numbers(value) > CHUNK:
            found.append(((*path, name), field.annotation))
        elif isinstance(value, dict) and isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            found += _long_lists(field.annotation, value, (*path, name))
    return found


def _emptied(content: dict, path: tuple) -> dict:
    """A copy of `content` with the list at `path` replaced by []."""
    head, *rest = path
    return {**content, head: [] if not rest else _emptied(content[head], tuple(rest))}


def json_answer(model: type, content, status: int = 200) -> Response:
    """`content` checked against the route's response model and written as JSON, byte for byte as FastAPI writes
    it (TypeAdapter.dump_json, by alias), but where this runs, and CHUNK numbers at a time.

    FastAPI writes its routes' answers on the event loop, which a step of the largest network (18 MB of JSON) or a
    prediction of 10,000 rows (100 MB) would hold for up to a second, and pydantic holds the GIL while it checks and
    writes, wherever it runs: one call for the whole answer stops the event loop, every other client with it, just
    as long from a thread. So the long lists are written apart, in chunks, and put in their place in the rest."""
    lists = _long_lists(model, content) if isinstance(content, dict) else []
    if not lists:
        return Response(_dump(model, content), status_code=status, media_type="application/json")
    rest = content
    for path, _ in lists:
        rest = _emptied(rest, path)
    body = _dump(model, rest)
    needles = [b'"' + path[-1].encode() + b'":[]' for path, _ in lists]
    at = [body.find(needle) for needle in needles]
    if any(body.count(needle) != 1 for needle in needles) or at != sorted(at):  # not told apart: one call
        return Response(_dump(model, content), status_code=status, media_type="application/json")
    parts, start = [], 0
    for (path, annotation), needle, where in zip(lists, needles, at):
        value = content
        for key in path:
            value = value[key]
        parts.append(body[start:where + len(needle) - 2])
        parts += _dump_list(annotation, value)
        start = where + len(needle)
    parts.append(body[start:])
    return Parts(parts, status)
