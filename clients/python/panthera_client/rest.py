"""The REST users API (``/v1/users``) with an ``X-API-Key`` token
(``panthera keys rest-token``). Answers are dicts as the API sends them;
errors raise the typed errors with the API's ``code``."""

import json
import urllib.parse

from . import __version__
from ._http import exchange, ssl_context
from .errors import error_class


class Users:
    """``Users("https://api.example", rest_token)``."""

    def __init__(self, url, api_key, cafile=None, context=None, user_agent=None, timeout=30):
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.context = ssl_context(cafile, context)
        self.user_agent = user_agent or "panthera-client-python/" + __version__
        self.timeout = timeout
        #: The X-RateLimit-* headers of the last answer.
        self.rate_limit = {}

    def list(self, limit=None, offset=None, status=None):
        """One page: ``{"data": [...], "total", "limit", "offset"}``."""
        q = {k: v for k, v in (("limit", limit), ("offset", offset), ("status", status))
             if v is not None}
        path = "/v1/users" + ("?" + urllib.parse.urlencode(q) if q else "")
        return self._request("GET", path)

    def iterate(self, status=None, page_size=100):
        """Every user, page after page."""
        offset = 0
        while True:
            page = self.list(limit=page_size, offset=offset, status=status)
            yield from page["data"]
            offset += len(page["data"])
            if not page["data"] or offset >= page["total"]:
                return

    def get(self, user_id):
        return self._request("GET", self._item(user_id))

    def create(self, username, email, idempotency_key=None, **fields):
        """``POST /v1/users``; ``fields``: status, first_name, last_name,
        company, password. With ``idempotency_key`` a retry creates nothing
        twice."""
        body = dict(fields, username=username, email=email)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._request("POST", "/v1/users", body, headers)

    def update(self, user_id, **fields):
        """``PUT``: only the fields given change."""
        return self._request("PUT", self._item(user_id), fields)

    def delete(self, user_id):
        self._request("DELETE", self._item(user_id))

    @staticmethod
    def _item(user_id):
        return "/v1/users/" + urllib.parse.quote(user_id, safe="")

    def _request(self, verb, path, body=None, extra=None):
        headers = {"Accept": "application/json", "X-API-Key": self.api_key,
                   "User-Agent": self.user_agent}
        headers.update(extra or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        reply = exchange(verb, self.url + path, data, headers, self.context, self.timeout)
        self.rate_limit = {k.lower(): v for k, v in reply.headers.items()
                           if k.lower().startswith("x-ratelimit-")}
        if reply.status == 204:
            return None
        text = reply.body.decode("utf-8", "replace")
        if 200 <= reply.status < 300:
            return json.loads(text)
        try:
            v = json.loads(text)
            code, msg = v.get("code"), v.get("message", text)
        except ValueError:
            code, msg = None, text.strip()
        retry = reply.headers.get("Retry-After")
        cls = error_class(reply.status, msg)
        raise cls(reply.status, msg, reply.headers.get("X-Request-Id"), code=code,
                  retry_after=int(retry) if retry and retry.isdigit() else None)
