"""The REST users API against a real server."""

import unittest
import uuid

from panthera_client import (AuthenticationError, ConflictError, ForbiddenError,
                             NotFoundError, ValidationError)
from tests.env import E, need, users


@need("PANTHERA_URL", "PANTHERA_REST_TOKEN")
class RestUsers(unittest.TestCase):
    def test_create_read_update_list_delete(self):
        api = users()
        name = "py" + uuid.uuid4().hex[:10]
        u = api.create(name, name + "@example.com", first_name="Py", last_name="Thon",
                       status="pending")
        self.assertTrue(u["id"].startswith("usr_"))
        self.assertEqual((u["first_name"], u["last_name"], u["status"]),
                         ("Py", "Thon", "pending"))
        self.assertRegex(u["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIn("x-ratelimit-remaining", api.rate_limit)
        self.assertEqual(api.get(u["id"]), u)
        changed = api.update(u["id"], status="inactive")
        self.assertEqual((changed["status"], changed["username"]), ("inactive", name))
        page = api.list(status="inactive", limit=100)
        self.assertIn(u["id"], [x["id"] for x in page["data"]])
        self.assertEqual((page["limit"], page["offset"]), (100, 0))
        self.assertTrue(all(x["status"] == "inactive" for x in page["data"]))
        self.assertIn(u["id"], [x["id"] for x in api.iterate(page_size=1)])
        self.assertIsNone(api.delete(u["id"]))
        with self.assertRaises(NotFoundError) as cm:
            api.get(u["id"])
        e = cm.exception
        self.assertEqual((e.status, e.code), (404, "NOT_FOUND"))
        self.assertEqual(e.message, "User with ID '%s' not found." % u["id"])
        self.assertTrue(e.request_id)

    def test_conflicts_validation_and_idempotent_retries(self):
        api = users()
        name = "py" + uuid.uuid4().hex[:10]
        key = uuid.uuid4().hex
        first = api.create(name, name + "@example.com", idempotency_key=key)
        again = api.create(name, name + "@example.com", idempotency_key=key)
        self.assertEqual(first, again)
        with self.assertRaises(ConflictError) as cm:
            api.create(name + "x", name.upper() + "@EXAMPLE.com")
        self.assertEqual(cm.exception.code, "CONFLICT")
        with self.assertRaises(ValidationError) as cm:
            api.update(first["id"], status="gone")
        self.assertEqual(cm.exception.code, "VALIDATION_ERROR")
        api.delete(first["id"])

    def test_keys_are_checked(self):
        with self.assertRaises(AuthenticationError) as cm:
            users(token="pnt_wrong").list()
        self.assertEqual((cm.exception.status, cm.exception.code), (401, "UNAUTHORIZED"))

    @need("PANTHERA_APP_REST_TOKEN")
    def test_an_app_key_is_forbidden(self):
        with self.assertRaises(ForbiddenError) as cm:
            users(token=E["PANTHERA_APP_REST_TOKEN"]).list()
        self.assertEqual(cm.exception.code, "FORBIDDEN")

    @need("PANTHERA_PLAIN_URL")
    def test_plain_http_is_refused_when_https_is_available(self):
        with self.assertRaises(ForbiddenError) as cm:
            users(url=E["PANTHERA_PLAIN_URL"]).list()
        self.assertIn("https://", cm.exception.message)
