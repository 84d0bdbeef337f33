"""Client for the Panthera web service, standard library only.

- :class:`Client`: signed calls (app and user signing, sha1/256/512), answers
  as dicts (XML or JSON), typed errors, clock-skew correction, user-token
  helpers and file downloads.
- :class:`Users`: the REST users API (``/v1/users``, ``X-API-Key``).
"""

__version__ = "0.1.0"

from .answers import as_list, parse, parse_xml  # noqa: E402
from .errors import (  # noqa: E402
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PantheraError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from .rest import Users  # noqa: E402
from .signed import Client, UserToken, format_timestamp, sign  # noqa: E402

__all__ = [
    "Client", "Users", "UserToken", "as_list", "parse", "parse_xml", "sign",
    "format_timestamp", "PantheraError", "BadRequestError", "AuthenticationError",
    "ForbiddenError", "NotFoundError", "ConflictError", "ValidationError",
    "RateLimitError", "ServerError",
]
