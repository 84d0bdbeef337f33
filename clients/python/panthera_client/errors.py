"""Typed errors. Every one carries the HTTP status, the server's message and
the request id (the ``X-Request-Id`` header), which identifies the call in the
server's log."""


class PantheraError(Exception):
    """An answer that is not a success.

    ``status``: HTTP status. ``message``: the server's text. ``request_id``:
    the ``X-Request-Id`` header. ``code``: the REST error code
    (``NOT_FOUND`` …) or the signed answer's numeric code. ``fatal``: True
    for the signed protocol's plain-text errors (before the caller is known).
    ``retry_after``: seconds, from ``Retry-After`` (429, 503).
    """

    def __init__(self, status, message, request_id=None, code=None, fatal=False,
                 retry_after=None, body=None):
        super().__init__("%s %s%s" % (status, message,
                                      " (request %s)" % request_id if request_id else ""))
        self.status = status
        self.message = message
        self.request_id = request_id
        self.code = code
        self.fatal = fatal
        self.retry_after = retry_after
        self.body = body


class BadRequestError(PantheraError):
    """400."""


class AuthenticationError(PantheraError):
    """401, or a refused signature, key, timestamp or nonce (403 fatal)."""


class ForbiddenError(PantheraError):
    """403: not allowed (SSL required, admin role needed …)."""


class NotFoundError(PantheraError):
    """404."""


class ConflictError(PantheraError):
    """409: a unique value is taken, or an idempotent call is in progress."""


class ValidationError(PantheraError):
    """422: a field breaks its rule."""


class RateLimitError(PantheraError):
    """429: wait ``retry_after`` seconds."""


class ServerError(PantheraError):
    """5xx."""


_AUTH_WORDS = ("api key", "access key", "timestamp", "nonce", "signature", "x-api-key")


def error_class(status, message="", fatal=False):
    """The error class for a status (and, for 403, the message)."""
    if status == 403 and (fatal or "X-API-Key" in message):
        low = message.lower()
        if any(w in low for w in _AUTH_WORDS) and "https" not in low:
            return AuthenticationError
    return {
        400: BadRequestError,
        401: AuthenticationError,
        403: ForbiddenError,
        404: NotFoundError,
        409: ConflictError,
        422: ValidationError,
        429: RateLimitError,
    }.get(status, ServerError if status >= 500 else PantheraError)
