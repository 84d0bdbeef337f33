"""A signed host-info call with Python's standard library only.

Usage: PANTHERA_URL=http://127.0.0.1:8080 PANTHERA_API_KEY=... PANTHERA_API_SECRET=... python3 host_info.py
"""
import email.utils
import hashlib
import hmac
import os
import secrets
import urllib.error
import urllib.parse
import urllib.request

url = os.environ.get("PANTHERA_URL", "http://127.0.0.1:8080")
api_key = os.environ["PANTHERA_API_KEY"]
api_secret = os.environ["PANTHERA_API_SECRET"]

timestamp = email.utils.formatdate(usegmt=True)  # "Sun, 22 Nov 2026 08:22:53 GMT"
nonce = secrets.token_hex(8)
access_key = hmac.new(
    api_secret.encode(), (timestamp + api_key + nonce).encode(), hashlib.sha256
).hexdigest()

body = urllib.parse.urlencode({
    "api_key": api_key,
    "access_key": access_key,
    "timestamp": timestamp,
    "nonce": nonce,
    "algo": "sha256",
    "content_type": "application/json",
}).encode()
request = urllib.request.Request(
    url + "/v1.0/host-info", data=body, headers={"User-Agent": "my-app/1.0"}
)
try:
    with urllib.request.urlopen(request) as response:
        print(response.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
    raise SystemExit(1)
