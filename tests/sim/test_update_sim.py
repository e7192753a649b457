"""update.py's dyndns2 answers, without sockets (python3 -m unittest)."""
import base64
import json
import os
import tempfile
import unittest

import update


def request(hostname="123456", myip=None, user="u", key="k", ua="aiccud/0.1.0"):
    q = "hostname=%s" % hostname + ("&myip=%s" % myip if myip else "")
    auth = "Basic " + base64.b64encode(("%s:%s" % (user, key)).encode()).decode()
    return {"method": "GET", "path": "/nic/update", "query": q, "version": "HTTP/1.1",
            "headers": {"authorization": auth, "user-agent": ua}}


class UpdateAnswers(unittest.TestCase):
    def setUp(self):
        fd, self.path = tempfile.mkstemp()
        with os.fdopen(fd, "w") as fh:
            json.dump({"hosts": [{"hostname": "123456", "username": "u", "key": "k",
                                  "ipv4": "192.0.2.99"}]}, fh)
        self.hosts = update.Hosts(self.path)

    def tearDown(self):
        os.unlink(self.path)

    def answer(self, req, src="198.51.100.7", abuse_after=2):
        return update.answer_for(self.hosts, req, src, abuse_after)

    def test_good_then_nochg_then_abuse(self):
        self.assertEqual(self.answer(request(myip="203.0.113.5")), "good 203.0.113.5")
        self.assertEqual(self.answer(request(myip="203.0.113.5")), "nochg 203.0.113.5")
        self.assertEqual(self.answer(request(myip="203.0.113.5")), "nochg 203.0.113.5")
        self.assertEqual(self.answer(request(myip="203.0.113.5")), "abuse")
        # abusive from then on, whatever comes
        self.assertEqual(self.answer(request(myip="203.0.113.6")), "abuse")

    def test_source_without_myip(self):
        self.assertEqual(self.answer(request(), src="198.51.100.9"), "good 198.51.100.9")

    def test_refusals(self):
        self.assertEqual(self.answer(request(key="wrong")), "badauth")
        self.assertEqual(self.answer(request(user="other")), "badauth")
        self.assertEqual(self.answer(request(hostname="999")), "nohost")
        self.assertEqual(self.answer(request(ua="curl/8.0")), "badagent")
        self.assertEqual(self.answer(request(ua="")), "badagent")
        req = request()
        del req["headers"]["authorization"]
        self.assertEqual(self.answer(req), "badauth")

    def test_good_resets_the_nochg_run(self):
        self.answer(request(myip="203.0.113.5"))
        self.answer(request(myip="203.0.113.5"))
        self.assertEqual(self.answer(request(myip="203.0.113.8")), "good 203.0.113.8")
        self.assertEqual(self.answer(request(myip="203.0.113.8")), "nochg 203.0.113.8")


if __name__ == "__main__":
    unittest.main()
