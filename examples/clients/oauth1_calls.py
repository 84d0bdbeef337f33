"""OAuth 1.0 (RFC 5849) calls signed by an independent implementation, oauthlib.

Environment: PANTHERA_URL, PANTHERA_API_KEY, PANTHERA_API_SECRET and, for the
signed-in calls, PANTHERA_AUTH_TOKEN and PANTHERA_TOKEN_SECRET.
Prints one JSON object per line: {"case", "status", "body"}. The test suite
runs it against a real server; it also shows how a client signs with oauthlib:

    client = oauthlib.oauth1.Client(api_key, client_secret=api_secret,
                                    resource_owner_key=auth_token,
                                    resource_owner_secret=token_secret)
    uri, headers, body = client.sign(url, http_method="POST",
        body=urllib.parse.urlencode({...}),
        headers={"Content-Type": "application/x-www-form-urlencoded"})
"""
import json
import os
import urllib.error
import urllib.parse
import urllib.request

from oauthlib import oauth1

URL = os.environ["PANTHERA_URL"].rstrip("/")
KEY = os.environ["PANTHERA_API_KEY"]
SECRET = os.environ["PANTHERA_API_SECRET"]
TOKEN = os.environ.get("PANTHERA_AUTH_TOKEN")
TOKEN_SECRET = os.environ.get("PANTHERA_TOKEN_SECRET")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def client(method=oauth1.SIGNATURE_HMAC_SHA1, secret=SECRET, token=None, token_secret=None):
    return oauth1.Client(KEY, client_secret=secret, resource_owner_key=token,
                         resource_owner_secret=token_secret, signature_method=method)


def send(uri, headers, body, method="POST"):
    headers = dict(headers)
    headers["User-Agent"] = "oauthlib-test/1.0"
    data = body.encode() if body else None
    req = urllib.request.Request(uri, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def report(case, status, body):
    print(json.dumps({"case": case, "status": status, "body": body}), flush=True)


def post(case, path, params, **kw):
    signed = client(**kw).sign(URL + path, http_method="POST",
                               body=urllib.parse.urlencode(params), headers=FORM)
    report(case, *send(*signed))
    return signed


post("consumer_sha1", "/host-info", {"content_type": "application/json"})
post("consumer_sha256", "/v1.0/get-method-info",
     {"method": "host-info", "content_type": "application/json"},
     method=oauth1.SIGNATURE_HMAC_SHA256)

uri, headers, body = client(oauth1.SIGNATURE_HMAC_SHA512).sign(
    URL + "/host-info?content_type=application%2Fjson&note=a+b%21", http_method="GET")
report("query_sha512_get", *send(uri, headers, None, "GET"))

signed = post("replay_first", "/host-info", {"content_type": "application/json"})
report("replay_again", *send(*signed))

uri, headers, body = client().sign(URL + "/get-method-info", http_method="POST",
                                   body="method=host-info", headers=FORM)
report("tampered_body", *send(uri, headers, body.replace("host-info", "get-method-list")))

post("wrong_secret", "/host-info", {"content_type": "application/json"}, secret="not-the-secret")

uri, headers, body = client().sign(URL + "/host-info", http_method="POST",
                                   body="content_type=application%2Fjson", headers=FORM)
report("mixed_schemes", *send(uri, headers, body + "&api_key=" + urllib.parse.quote(KEY)))

if TOKEN:
    post("token_profile", "/get-user-profile", {"content_type": "application/json"},
         token=TOKEN, token_secret=TOKEN_SECRET)
    post("token_sha256_deposit", "/get-user-deposit", {"content_type": "application/json"},
         method=oauth1.SIGNATURE_HMAC_SHA256, token=TOKEN, token_secret=TOKEN_SECRET)
    post("wrong_token_secret", "/get-user-profile", {"content_type": "application/json"},
         token=TOKEN, token_secret="not-the-token-secret")
    post("unknown_token", "/get-user-profile", {"content_type": "application/json"},
         token="0" * 40, token_secret=TOKEN_SECRET)
