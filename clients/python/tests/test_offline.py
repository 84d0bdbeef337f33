import hashlib
import hmac
import unittest

from panthera_client import as_list, format_timestamp, parse_xml, sign
from panthera_client.errors import AuthenticationError, NotFoundError, error_class
from panthera_client.signed import server_time


class Offline(unittest.TestCase):
    def test_signatures_follow_the_protocol(self):
        ts, key, nonce = "Thu, 26 Jul 2012 14:53:44 UTC", "k", "n"
        for algo, fn in (("sha1", hashlib.sha1), ("sha256", hashlib.sha256),
                         ("sha512", hashlib.sha512)):
            want = hmac.new(b"s", (ts + key + nonce).encode(), fn).hexdigest()
            self.assertEqual(sign("s", ts, key, nonce, algo), want)
        with self.assertRaises(ValueError):
            sign("s", ts, key, nonce, "md5")

    def test_timestamps(self):
        self.assertEqual(format_timestamp(1343314424), "Thu, 26 Jul 2012 14:53:44 GMT")
        msg = "timestamp too old, server time is Thu, 26 Jul 2012 14:53:44 UTC"
        self.assertEqual(server_time(msg), 1343314424)
        self.assertEqual(server_time("x", "Thu, 26 Jul 2012 14:53:45 GMT"), 1343314425)

    def test_one_child_is_an_object_several_a_list(self):
        one = parse_xml('<rsp stat="ok"><items total="1"><item id="1">a</item></items></rsp>')
        two = parse_xml('<rsp stat="ok"><items total="2"><item id="1"/><item id="2"/></items></rsp>')
        self.assertEqual(one["items"]["item"], {"id": "1", "_content": "a"})
        self.assertEqual(len(as_list(two["items"]["item"])), 2)
        self.assertEqual(as_list(one["items"]["item"])[0]["id"], "1")
        self.assertEqual(as_list(None), [])
        self.assertEqual(parse_xml('<rsp stat="ok"><e/><t>x</t></rsp>'),
                         {"stat": "ok", "e": "", "t": "x"})

    def test_error_classes(self):
        self.assertIs(error_class(404), NotFoundError)
        self.assertIs(error_class(403, "invalid access key", fatal=True), AuthenticationError)
