"""The server the tests run against, from the environment (the Rust test
tests/api/sdks.rs sets it). Without PANTHERA_URL the live tests are skipped."""

import os
import unittest

E = os.environ


def need(*names):
    missing = [n for n in names if not E.get(n)]
    return unittest.skipIf(missing, "set %s to run against a server" % ", ".join(missing))


def client(**kw):
    from panthera_client import Client
    return Client(E["PANTHERA_URL"], E["PANTHERA_API_KEY"], E["PANTHERA_API_SECRET"],
                  cafile=E.get("PANTHERA_CA"), **kw)


def users(token=None, url=None):
    from panthera_client import Users
    return Users(url or E["PANTHERA_URL"], token or E["PANTHERA_REST_TOKEN"],
                 cafile=E.get("PANTHERA_CA"))
