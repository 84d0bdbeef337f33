"""The signed protocol (protocol.md): app signing (``api_key`` +
``access_key``), user signing (``auth_token`` + ``access_token``), answers in
XML or JSON as native objects, typed errors, and clock-skew correction: a
call refused because its timestamp is outside the server's window is signed
again once with the server's time (stated in the refusal, else its ``Date``
header), and the offset is kept for later calls."""

import email.utils
import hashlib
import hmac
import re
import secrets
import time
import urllib.parse

from . import __version__
from ._http import exchange, ssl_context
from .answers import parse
from .errors import PantheraError, error_class

ALGOS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
_FATAL = re.compile(r"^\d{3} [^(]*\((.*)\)\s*$", re.S)
_SKEW = re.compile(r"timestamp too (?:old|far in the future), server time is ([^)]+)")


def format_timestamp(unix):
    """``Thu, 26 Jul 2012 14:53:44 GMT`` (the server accepts GMT and UTC)."""
    return email.utils.formatdate(unix, usegmt=True)


def sign(secret, timestamp, key, nonce, algo="sha1"):
    """lowercase_hex(HMAC_algo(secret, timestamp || key || nonce))."""
    if algo not in ALGOS:
        raise ValueError("algo must be one of sha1, sha256, sha512")
    msg = (timestamp + key + nonce).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), msg, ALGOS[algo]).hexdigest()


def server_time(message, date_header=None):
    """The server's clock (Unix seconds) from a refused timestamp's message,
    else from the Date header; ``None`` when neither says."""
    for text in (_SKEW.search(message or "") and _SKEW.search(message).group(1), date_header):
        if text:
            try:
                return email.utils.parsedate_to_datetime(text.strip()).timestamp()
            except (TypeError, ValueError):
                continue
    return None


class UserToken:
    """A user token and its secret; ``auth_url`` and ``valid_until`` as
    ``request-token`` answered them."""

    def __init__(self, token, secret, auth_url=None, valid_until=None):
        self.token = token
        self.secret = secret
        self.auth_url = auth_url
        self.valid_until = valid_until

    def __repr__(self):
        return "UserToken(%r, valid_until=%r)" % (self.token, self.valid_until)


class Client:
    """Signed calls for one api key (and optionally one user token).

    ``url``: the server (``https://api.example``), ``algo``: sha1, sha256 or
    sha512; ``format``: ``json`` or ``xml`` (both give the same objects);
    ``cafile``/``context``: TLS trust; ``correct_clock``: re-sign once with
    the server's time when a timestamp is refused.
    """

    def __init__(self, url, api_key, api_secret, algo="sha1", format="json",
                 token=None, version="1.0", cafile=None, context=None,
                 user_agent=None, timeout=30, correct_clock=True):
        if algo not in ALGOS:
            raise ValueError("algo must be one of sha1, sha256, sha512")
        if format not in ("json", "xml"):
            raise ValueError("format must be json or xml")
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.api_secret = api_secret
        self.algo = algo
        self.format = format
        self.token = token
        self.version = version
        self.context = ssl_context(cafile, context)
        self.user_agent = user_agent or "panthera-client-python/" + __version__
        self.timeout = timeout
        self.correct_clock = correct_clock
        #: Seconds to add to the local clock (learnt from the server).
        self.clock_offset = 0
        #: How many calls were signed again after a refused timestamp.
        self.clock_corrections = 0
        #: The X-RateLimit-* headers of the last answer.
        self.rate_limit = {}

    def with_token(self, token, secret=None):
        """A client acting for the user of ``token`` (a :class:`UserToken`,
        or a token string and its secret); it shares the clock offset."""
        if not isinstance(token, UserToken):
            token = UserToken(token, secret)
        c = Client(self.url, self.api_key, self.api_secret, self.algo, self.format,
                   token, self.version, context=self.context, user_agent=self.user_agent,
                   timeout=self.timeout, correct_clock=self.correct_clock)
        c.clock_offset = self.clock_offset
        return c

    # -- signing -----------------------------------------------------------

    def signed_params(self, now=None):
        """The credential parameters for one call, at ``now`` (Unix seconds,
        default: the corrected local clock)."""
        unix = int((time.time() if now is None else now) + self.clock_offset)
        ts = format_timestamp(unix)
        nonce = secrets.token_hex(12)
        p = {
            "api_key": self.api_key,
            "timestamp": ts,
            "nonce": nonce,
            "access_key": sign(self.api_secret, ts, self.api_key, nonce, self.algo),
        }
        if self.algo != "sha1":
            p["algo"] = self.algo
        if self.token is not None:
            p["auth_token"] = self.token.token
            p["access_token"] = sign(self.token.secret, ts, self.token.token, nonce, self.algo)
        return p

    # -- calls ---------------------------------------------------------------

    def call(self, method, params=None, **kwargs):
        """Calls ``method``; answers its payload as a dict (without ``stat``)."""
        reply = self._post(method, params, kwargs, None)
        value = parse(reply.body, reply.header("Content-Type"))
        value.pop("stat", None)
        return value

    def download(self, method, params=None, **kwargs):
        """Calls a method that returns a file and answers its bytes."""
        reply = self._post(method, params, kwargs,
                           "application/octet-stream, application/json")
        return reply.body

    def fetch(self, url):
        """GETs a file the server links to (``download_url``, renditions)."""
        if url.startswith("/"):
            url = self.url + url
        reply = exchange("GET", url, headers={"User-Agent": self.user_agent},
                         context=self.context, timeout=self.timeout)
        if reply.status != 200:
            raise self._error(reply, retried=True)
        return reply.body

    def _post(self, method, params, kwargs, content_type):
        fields = dict(params or {})
        fields.update(kwargs)
        fields = {k: v for k, v in fields.items() if v is not None}
        if content_type is None:
            content_type = "application/json" if self.format == "json" else "text/xml"
        if content_type != "text/xml":
            fields["content_type"] = content_type
        url = "%s/v%s/%s" % (self.url, self.version, method)
        for attempt in (0, 1):
            body = dict(fields)
            body.update(self.signed_params())
            data = urllib.parse.urlencode(body, doseq=True).encode("utf-8")
            reply = exchange("POST", url, data, {
                "User-Agent": self.user_agent,
                "Content-Type": "application/x-www-form-urlencoded",
            }, self.context, self.timeout)
            self.rate_limit = {k.lower(): v for k, v in reply.headers.items()
                               if k.lower().startswith("x-ratelimit-")}
            if 200 <= reply.status < 300:
                return reply
            err = self._error(reply, retried=attempt == 1)
            if attempt == 0 and self._learn_clock(err, reply):
                continue
            raise err
        raise AssertionError("unreachable")

    def _learn_clock(self, err, reply):
        if not (self.correct_clock and err.fatal and err.status == 403
                and _SKEW.search(err.message)):
            return False
        server = server_time(err.message, reply.header("Date"))
        if server is None:
            return False
        self.clock_offset = round(server - time.time())
        self.clock_corrections += 1
        return True

    def _error(self, reply, retried):
        rid = reply.header("X-Request-Id")
        ctype = (reply.header("Content-Type") or "").split(";")[0].strip()
        retry_after = reply.header("Retry-After")
        retry_after = int(retry_after) if retry_after and retry_after.isdigit() else None
        text = reply.body.decode("utf-8", "replace")
        if ctype in ("application/json", "text/xml"):
            try:
                value = parse(reply.body, ctype)
                err = value.get("err", {})
                msg, code = err.get("msg", text), err.get("code", reply.status)
                cls = error_class(reply.status, msg)
                return cls(reply.status, msg, rid, code=code, retry_after=retry_after, body=value)
            except ValueError:
                pass
        m = _FATAL.match(text)
        msg = m.group(1) if m else text.strip()
        cls = error_class(reply.status, msg, fatal=True)
        return cls(reply.status, msg, rid, fatal=True, retry_after=retry_after)

    # -- user tokens ---------------------------------------------------------

    def request_token(self, app_name, token_secret=None, app_callback=None, **extra):
        """``request-token`` (HTTPS only): a pending token the user approves
        at ``auth_url``. The secret is made here unless given."""
        secret = token_secret or secrets.token_urlsafe(24)
        v = self.call("request-token", dict(extra, token_secret=secret,
                                            app_name=app_name, app_callback=app_callback))
        return UserToken(v.get("token"), secret, v.get("auth_url"), v.get("valid_until"))

    def authorization_url(self, token):
        """The page where the user approves ``token`` (a :class:`UserToken`
        uses its own ``auth_url``)."""
        if isinstance(token, UserToken):
            if token.auth_url:
                return token.auth_url
            token = token.token
        return "%s/auth/%s" % (self.url, urllib.parse.quote(token, safe=""))

    def token_valid_until(self):
        """When this client's token expires (``get-user-profile``), Unix seconds."""
        v = self.call("get-user-profile")
        until = v.get("user", {}).get("token_valid_until")
        return email.utils.parsedate_to_datetime(until).timestamp() if until else None

    def set_token_valid_until(self, when):
        """``token-valid-until``: the token expires at ``when`` (Unix seconds
        or a protocol timestamp), at most 90 days ahead."""
        if not isinstance(when, str):
            when = format_timestamp(int(when))
        return self.call("token-valid-until", valid_until=when)

    def token_is_valid(self):
        """Whether this client's token is accepted now."""
        try:
            self.call("get-user-profile")
            return True
        except PantheraError as e:
            if e.status == 401:
                return False
            raise
