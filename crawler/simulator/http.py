"""The small request/reply vocabulary between the server and the archetype sites.

Sites are plain synchronous Python (easy to read for whoever writes the crawler adapters): they get
a ``SimRequest`` and return a ``Reply``. The server (``server.py``) turns a Reply into HTTP,
including the misbehaviours (delays, resets, truncation, raw bytes) that a normal framework
response cannot express.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional
from urllib.parse import parse_qs


@dataclass
class SimRequest:
    method: str
    path: str  # path only, percent-decoded form as received (no query)
    query: dict[str, str]  # first value of each query parameter
    headers: dict[str, str]  # header names lower-cased
    body: bytes
    port: int
    raw_path: str = ""  # path + query as sent
    cookies: dict[str, str] = field(default_factory=dict)

    def form(self) -> dict[str, str]:
        """The urlencoded form body (first value per field); {} for other bodies."""
        try:
            parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return {}
        return {key: values[0] for key, values in parsed.items()}

    def json(self) -> Optional[Any]:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def param(self, name: str, default: str = "") -> str:
        """A parameter from the query string, else from a form body."""
        if name in self.query:
            return self.query[name]
        return self.form().get(name, default)


@dataclass
class Reply:
    """What a site answers. ``content_type=None`` sends no Content-Type header at all."""

    status: int = 200
    body: bytes = b""
    content_type: Optional[str] = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    cacheable: bool = False  # static file: ETag/Last-Modified and conditional requests (304)
    last_modified: Optional[datetime] = None
    delay: float = 0.0  # seconds to wait before answering (slow server)
    action: Optional[str] = None  # None, "reset", "truncate" (send half of the body), "hang"

    @classmethod
    def html(cls, text: str, status: int = 200, charset: Optional[str] = "utf-8",
             encoding: str = "utf-8", **kwargs: Any) -> "Reply":
        """An HTML page; ``charset=None`` omits the header charset (body bytes still ``encoding``)."""
        content_type = f"text/html; charset={charset}" if charset else "text/html"
        return cls(status=status, body=text.encode(encoding, errors="xmlcharrefreplace"),
                   content_type=content_type, **kwargs)

    @classmethod
    def json_reply(cls, data: Any, status: int = 200, **kwargs: Any) -> "Reply":
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        return cls(status=status, body=body, content_type="application/json;charset=UTF-8", **kwargs)

    @classmethod
    def redirect(cls, location: str, status: int = 302, **kwargs: Any) -> "Reply":
        headers = {"Location": location, **kwargs.pop("headers", {})}
        return cls(status=status, body=b"", content_type="text/html", headers=headers, **kwargs)

    @classmethod
    def not_found(cls) -> "Reply":
        return cls.html("<html><head><title>404 Not Found</title></head><body><h1>404 Not Found"
                        "</h1><hr><center>nginx</center></body></html>", status=404)
