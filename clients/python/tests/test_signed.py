"""Signed calls against a real server."""

import base64
import time
import unittest

from panthera_client import (AuthenticationError, Client, NotFoundError, UserToken,
                             as_list)
from tests.env import E, client, need


@need("PANTHERA_URL", "PANTHERA_API_KEY", "PANTHERA_API_SECRET")
class Signed(unittest.TestCase):
    def test_every_algo_in_json_and_xml_gives_the_same_objects(self):
        seen = []
        for algo in ("sha1", "sha256", "sha512"):
            for fmt in ("json", "xml"):
                v = client(algo=algo, format=fmt).call("host-info")
                self.assertIsInstance(v, dict)
                seen.append(sorted(v))
        self.assertTrue(all(s == seen[0] for s in seen), seen)

    def test_a_clock_skewed_request_is_refused_then_corrected(self):
        shift = int(E.get("PANTHERA_CLOCK_SHIFT", "0"))
        strict = client(correct_clock=False)
        if shift:
            with self.assertRaises(AuthenticationError) as cm:
                strict.call("host-info")
            e = cm.exception
            self.assertEqual((e.status, e.fatal), (403, True))
            self.assertIn("server time is", e.message)
            self.assertTrue(e.request_id)
        c = client()
        c.call("host-info")
        c.call("host-info")
        self.assertEqual(c.clock_corrections, 1 if shift else 0)
        self.assertLessEqual(abs(c.clock_offset - shift), 5)

    def test_errors_are_typed_and_carry_the_request_id(self):
        c = client()
        with self.assertRaises(NotFoundError) as cm:
            c.call("download-image-preview", id_media="999999")
        e = cm.exception
        self.assertEqual((e.status, e.code, e.fatal), (404, 404, False))
        self.assertIn("not found", e.message)
        self.assertTrue(e.request_id)
        with self.assertRaises(NotFoundError) as cm:
            c.call("no-such-method")
        self.assertTrue(cm.exception.fatal)
        bad = Client(E["PANTHERA_URL"], E["PANTHERA_API_KEY"], "wrong-secret",
                     cafile=E.get("PANTHERA_CA"))
        bad.clock_offset = c.clock_offset
        with self.assertRaises(AuthenticationError) as cm:
            bad.call("host-info")
        self.assertEqual(cm.exception.status, 403)

    def test_files_download_as_bytes(self):
        c = client()
        data = c.download("download-image-preview", id_media="2")
        self.assertEqual(data[:2], b"\xff\xd8")
        v = c.call("download-image-preview", id_media="2")
        self.assertEqual(base64.b64decode(v["media"]["base64"]), data)
        self.assertEqual(c.fetch(E["PANTHERA_URL"] + "/media/preview/2.jpg")[:2], b"\xff\xd8")

    def test_the_user_token_flow(self):
        c = client()
        pending = c.request_token("SDK test app")
        self.assertTrue(pending.auth_url.startswith(E["PANTHERA_URL"] + "/auth/"))
        self.assertEqual(c.authorization_url(pending), pending.auth_url)
        self.assertEqual(c.authorization_url(pending.token), pending.auth_url)
        self.assertFalse(c.with_token(pending).token_is_valid(), "pending until approved")

    @need("PANTHERA_USER_TOKEN", "PANTHERA_TOKEN_SECRET")
    def test_calls_for_an_approved_user(self):
        for algo in ("sha1", "sha512"):
            for fmt in ("json", "xml"):
                u = client(algo=algo, format=fmt).with_token(
                    UserToken(E["PANTHERA_USER_TOKEN"], E["PANTHERA_TOKEN_SECRET"]))
                profile = u.call("get-user-profile")["user"]
                self.assertTrue(u.token_is_valid())
                self.assertEqual(profile["username"], "demo")
        until = int(time.time()) + u.clock_offset + 7200
        u.set_token_valid_until(until)
        self.assertLessEqual(abs(u.token_valid_until() - until), 1)
        listed = u.call("get-downloaded-images")
        self.assertIsInstance(as_list(listed.get("media_list", {}).get("media")), list)
        wrong = client().with_token(E["PANTHERA_USER_TOKEN"], "not-the-secret")
        with self.assertRaises(AuthenticationError) as cm:
            wrong.call("get-user-profile")
        self.assertEqual(cm.exception.status, 401)
