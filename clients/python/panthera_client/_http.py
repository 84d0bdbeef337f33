"""One HTTP exchange with urllib, returning status, headers and body for
every status (errors included)."""

import ssl
import urllib.error
import urllib.request


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def ssl_context(cafile=None, context=None):
    if context is not None:
        return context
    if cafile:
        return ssl.create_default_context(cafile=cafile)
    return None


def exchange(method, url, body=None, headers=None, context=None, timeout=30):
    handlers = [_NoRedirect()]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=timeout) as r:
            return Reply(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        try:
            data = e.read()
        finally:
            e.close()
        return Reply(e.code, e.headers, data)
