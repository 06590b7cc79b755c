"""Tests against a running OMTX-Hub (make dev, or the integration suite,
which sets OMTX_URL and OMTX_API_KEY and runs these with a GPU worker)."""

import os
import tempfile
import unittest

import omtx

URL = os.environ.get("OMTX_URL")
KEY = os.environ.get("OMTX_API_KEY")
PROTEIN = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK"


@unittest.skipUnless(URL and KEY, "set OMTX_URL and OMTX_API_KEY to run against a stack")
class StackTest(unittest.TestCase):
    def setUp(self):
        self.c = omtx.Client(URL, KEY)

    def test_predict_wait_results_download(self):
        sub = self.c.predict(PROTEIN, "CC(=O)Oc1ccccc1C(=O)O", ligand_name="Aspirin")
        self.assertTrue(sub["job_id"].startswith("job_"))
        job = self.c.wait(sub["job_id"], timeout=120, interval=0.5)
        self.assertEqual(job["status"], "completed", job.get("error"))
        res = self.c.results(sub["job_id"])
        self.assertIn("affinity_pred_value", res)
        self.assertIn("affinity_probability_binary", res)
        data = self.c.download(sub["job_id"], "results.json")
        self.assertTrue(data.startswith(b"{"))

    def test_idempotency_key_runs_once(self):
        key = omtx.new_idempotency_key()
        a = self.c.predict(PROTEIN, "CCO", idempotency_key=key)
        b = self.c.predict(PROTEIN, "CCO", idempotency_key=key)
        self.assertEqual(a["job_id"], b["job_id"])
        self.assertTrue(b.get("duplicate"))
        with self.assertRaises(omtx.ConflictError) as e:
            self.c.predict(PROTEIN, "CCN", idempotency_key=key)
        self.assertEqual(e.exception.field, "Idempotency-Key")

    def test_screen_csv_path_ranked_results_and_metadata(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "lib.csv")
            with open(path, "w") as f:
                f.write("name,smiles,class\nethanol,CCO,alcohol\nbenzene,c1ccccc1,aromatic\n"
                        "aspirin,CC(=O)Oc1ccccc1C(=O)O,nsaid\n")
            sub = self.c.screen(PROTEIN, path, name="py screen", max_concurrent=2)
            self.assertEqual(sub["total_ligands"], 3)
            batch = self.c.wait(sub["batch_id"], timeout=180, interval=0.5)
            self.assertEqual(batch["status"], "completed")
            rows = self.c.results(sub["batch_id"], as_dataframe=False)
            self.assertEqual(len(rows), 3)
            self.assertEqual([r["rank"] for r in rows], [1, 2, 3])
            self.assertEqual({r["class"] for r in rows}, {"alcohol", "aromatic", "nsaid"})
            png = self.c.download(sub["batch_id"], "analysis/affinity_distribution.png", to=os.path.join(d, "h.png"))
            with open(png, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_refused_library_names_the_rows(self):
        with self.assertRaises(omtx.InvalidInputError) as e:
            self.c.screen(PROTEIN, [{"name": "ok", "smiles": "CCO"}, {"name": "bad", "smiles": "C1CC"},
                                    {"name": "worse", "smiles": "Xx"}])
        err = e.exception
        self.assertEqual(err.status, 422)
        self.assertTrue(err.rows, str(err))
        self.assertEqual(sorted(r.row for r in err.rows), [2, 3])

    def test_field_errors_name_the_field(self):
        with self.assertRaises(omtx.InvalidInputError) as e:
            self.c.predict("MKTAYIAKQR1", "CCO")
        self.assertEqual(e.exception.field, "protein_sequence")

    def test_filters_before_the_gpu(self):
        flt = {"catalogs": ["pains_a"], "molecular_weight": {"max": 500}}
        lib = [{"name": "ethanol", "smiles": "CCO"}, {"name": "ene", "smiles": "O=C1NC(=S)SC1=Cc1ccccc1"}]
        est = self.c.estimate(PROTEIN, ligands=lib, filters=flt)
        self.assertEqual(est["filtered_ligands"], 1)
        self.assertEqual(est["filter_hits"], [{"rule": "pains_a:ene_rhod_A(235)", "ligands": 1}])
        sub = self.c.screen(PROTEIN, lib, filters=flt)
        self.assertEqual(sub["filtered_ligands"], 1)
        batch = self.c.wait(sub["batch_id"], timeout=180, interval=0.5)
        self.assertEqual(batch["status"], "completed")
        rows = {r["ligand_name"]: r for r in self.c.results(sub["batch_id"], as_dataframe=False)}
        self.assertEqual(rows["ene"]["status"], "filtered")
        self.assertEqual(rows["ene"]["filter_rule"], "pains_a:ene_rhod_A(235)")
        self.assertEqual(rows["ethanol"]["status"], "completed")
        with self.assertRaises(omtx.InvalidInputError) as e:
            self.c.screen(PROTEIN, lib, filters={"smarts": ["C(=O"]})
        self.assertEqual(e.exception.field, "filters.smarts[0]")

    def test_estimate_and_cancel(self):
        est = self.c.estimate(PROTEIN, num_ligands=1000)
        self.assertIn("gpu_class", est)
        sub = self.c.screen(PROTEIN, ["CCO"] * 1 + ["CCN", "CCC", "CCCl"], max_concurrent=1)
        self.c.cancel(sub["batch_id"])
        batch = self.c.wait(sub["batch_id"], timeout=120, interval=0.5)
        self.assertIn(batch["status"], ("cancelled", "completed"), batch)
        with self.assertRaises(omtx.InvalidInputError) as e:
            self.c.rerun(sub["batch_id"], which="failed")  # every ligand was valid: none failed
        self.assertEqual(e.exception.field, "which")
        if (batch.get("progress") or {}).get("cancelled"):
            again = self.c.rerun(sub["batch_id"], which="cancelled")
            self.assertEqual(again["rerun_of"], sub["batch_id"])
            self.assertEqual(again["total_ligands"], batch["progress"]["cancelled"])

    def test_targets(self):
        one_chain = "version: 1\nsequences:\n  - protein:\n      id: A\n      sequence: %s\n      msa: empty\n" % PROTEIN
        t = self.c.create_target(one_chain, name="py target")
        tid = t["target_id"]
        self.assertTrue(tid.startswith("tgt_"))
        self.assertEqual(self.c.create_target(one_chain, name="py target")["target_id"], tid, "content-addressed")
        self.assertIn(tid, [x["target_id"] for x in self.c.targets()])
        self.assertIn(PROTEIN, self.c.target_yaml(tid))
        sub = self.c.screen(None, ["CCO", "c1ccccc1O"], target_id=tid, ranking="lead_optimization")
        batch = self.c.wait(sub["batch_id"], timeout=180, interval=0.5)
        self.assertEqual(batch["status"], "completed", batch)
        self.assertEqual(batch["input_data"]["target_id"], tid)
        # A cofactor needs Boltz-2: this deployment serves the baseline,
        # which refuses it, naming the field, before any work.
        with_mg = one_chain + "  - ligand:\n      id: B\n      ccd: MG\n"
        mg = self.c.create_target(with_mg)
        with self.assertRaises(omtx.InvalidInputError) as e:
            self.c.screen(None, ["CCO"], target_id=mg["target_id"])
        self.assertTrue(e.exception.field.startswith("target"), e.exception)
        self.c.delete_target(mg["target_id"])
        with self.assertRaises(omtx.NotFoundError):
            self.c.target(mg["target_id"])

    def test_unknown_key_is_unauthorized(self):
        with self.assertRaises(omtx.UnauthorizedError):
            omtx.Client(URL, "no-such-key-0123456789").job("job_0")


if __name__ == "__main__":
    unittest.main()
