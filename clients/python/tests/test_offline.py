"""Tests that need no server: signatures, errors, row typing, requests."""

import http.server
import json
import os
import threading
import unittest

import omtx
from omtx import webhooks
from omtx.client import _typed
from omtx.errors import error_from

DATA = os.path.join(os.path.dirname(__file__), "data")


class WebhookTest(unittest.TestCase):
    def setUp(self):
        # Written by webhook.Sign in Go (webhook/vector_test.go checks it
        # against the same file), so both sides agree on one vector.
        with open(os.path.join(DATA, "webhook_vector.json")) as f:
            self.v = json.load(f)

    def test_go_signature_verifies(self):
        omtx.verify_signature(self.v["secret"], self.v["header"], self.v["body"].encode(), now=self.v["unix"] + 10)

    def test_sign_matches_go(self):
        self.assertEqual(webhooks.sign(self.v["secret"], self.v["body"].encode(), self.v["unix"]), self.v["header"])

    def test_tampered_body_fails(self):
        with self.assertRaises(omtx.WebhookSignatureError):
            omtx.verify_signature(self.v["secret"], self.v["header"], self.v["body"].encode() + b" ", now=self.v["unix"])

    def test_wrong_secret_fails(self):
        with self.assertRaises(omtx.WebhookSignatureError):
            omtx.verify_signature("other", self.v["header"], self.v["body"].encode(), now=self.v["unix"])

    def test_old_signature_fails(self):
        with self.assertRaises(omtx.WebhookSignatureError):
            omtx.verify_signature(self.v["secret"], self.v["header"], self.v["body"].encode(), now=self.v["unix"] + 301)

    def test_malformed_header_fails(self):
        for h in ["", "t=abc,v1=00", "v1=00", "t=1"]:
            with self.assertRaises(omtx.WebhookSignatureError, msg=h):
                omtx.verify_signature("s", h, b"{}", now=1)


class ErrorTest(unittest.TestCase):
    def test_library_rows_are_carried(self):
        body = {"error": {"code": "invalid", "message": "2 rows are invalid", "field": "library",
                          "rows": [{"row": 3, "field": "smiles", "message": "bad valence"},
                                   {"row": 9, "message": "empty"}], "request_id": "r1"}}
        e = error_from(422, body)
        self.assertIsInstance(e, omtx.InvalidInputError)
        self.assertEqual(e.field, "library")
        self.assertEqual([r.row for r in e.rows], [3, 9])
        self.assertEqual(e.rows[0].field, "smiles")
        self.assertIn("row 3: bad valence", str(e))

    def test_status_classes(self):
        for status, cls in [(401, omtx.UnauthorizedError), (404, omtx.NotFoundError), (409, omtx.ConflictError),
                            (429, omtx.RateLimitedError), (503, omtx.UnavailableError), (500, omtx.APIError)]:
            self.assertIsInstance(error_from(status, None), cls)


class RowTest(unittest.TestCase):
    def test_typed(self):
        r = _typed({"rank": "2", "batch_index": "7", "pic50": "6.5", "ligand_name": "'=x", "smiles": "CCO",
                    "error": "", "class": "''quoted"})
        self.assertEqual(r, {"rank": 2, "batch_index": 7, "pic50": 6.5, "ligand_name": "=x", "smiles": "CCO",
                             "error": None, "class": "'quoted"})


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Recorder.seen.append((self.path, dict(self.headers), body))
        if len(_Recorder.seen) == 1 and self.path == "/api/v1/predict":
            self.send_response(503)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"error":{"code":"unavailable","message":"try again","request_id":"x"}}')
            return
        self.send_response(202)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"job_id":"job_1","batch_id":"batch_1","status":"pending"}')

    def log_message(self, *a):
        pass


class RequestTest(unittest.TestCase):
    def setUp(self):
        _Recorder.seen = []
        self.srv = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.c = omtx.Client("http://127.0.0.1:%d" % self.srv.server_port, "k" * 24, retries=2)

    def tearDown(self):
        self.srv.shutdown()
        self.srv.server_close()

    def test_retry_keeps_the_idempotency_key(self):
        self.c.predict("MKTAYIAKQR", "CCO")
        self.assertEqual(len(_Recorder.seen), 2, "a 503 is retried")
        k1 = _Recorder.seen[0][1]["Idempotency-Key"]
        self.assertTrue(k1.startswith("omtx-py-"))
        self.assertEqual(k1, _Recorder.seen[1][1]["Idempotency-Key"], "a retry must send the same key")

    def test_plain_list_is_json(self):
        self.c.screen("MKTAYIAKQR", ["CCO", "c1ccccc1"], name="s")
        path, headers, body = _Recorder.seen[0]
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(json.loads(body)["ligands"], [{"name": "", "smiles": "CCO"}, {"name": "", "smiles": "c1ccccc1"}])

    def test_metadata_goes_up_as_a_csv_library(self):
        self.c.screen("MKTAYIAKQR", [{"name": "a", "smiles": "CCO", "class": "x"}])
        path, headers, body = _Recorder.seen[0]
        self.assertTrue(headers["Content-Type"].startswith("multipart/form-data"))
        self.assertIn(b'name="library"; filename="library.csv"', body)
        self.assertIn(b"name,smiles,class\na,CCO,x\n", body)

    def test_filters_go_up_as_json_and_as_a_form_field(self):
        flt = {"catalogs": ["pains_a"], "molecular_weight": {"max": 500}}
        self.c.screen("MKTAYIAKQR", ["CCO"], filters=flt)
        self.assertEqual(json.loads(_Recorder.seen[0][2])["filters"], flt)
        self.c.screen("MKTAYIAKQR", [{"name": "a", "smiles": "CCO", "class": "x"}], filters=flt)
        body = _Recorder.seen[1][2]
        self.assertIn(b'name="filters"\r\n\r\n' + json.dumps(flt).encode() + b"\r\n", body)
        self.c.estimate("MKTAYIAKQR", ligands=["CCO"], filters=flt)
        self.assertEqual(json.loads(_Recorder.seen[2][2])["filters"], flt)

    def test_rerun_posts_which_with_a_key(self):
        self.c.rerun("batch_1", which="failed_and_cancelled")
        path, headers, body = _Recorder.seen[0]
        self.assertEqual(path, "/api/v1/batches/batch_1/rerun")
        self.assertEqual(json.loads(body), {"which": "failed_and_cancelled"})
        self.assertTrue(headers["Idempotency-Key"].startswith("omtx-py-"))
        with self.assertRaises(ValueError):
            self.c.rerun("batch_1", which="all")


if __name__ == "__main__":
    unittest.main()
