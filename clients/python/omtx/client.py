"""The OMTX-Hub REST client (standard library only)."""

import csv
import io
import json
import os
import random
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from .errors import APIError, error_from

TERMINAL = ("completed", "failed", "cancelled")


def new_idempotency_key():
    """A random Idempotency-Key: a retried submission with it runs once."""
    return "omtx-py-" + uuid.uuid4().hex


def _is_dataframe(obj):
    mod = type(obj).__module__ or ""
    return mod.startswith("pandas") and hasattr(obj, "to_csv")


class Client:
    """A client of one OMTX-Hub deployment.

    Every submission sends an Idempotency-Key (a random one unless given),
    so the client's own retries of 429, 503 and dropped connections never
    run a job twice.
    """

    def __init__(self, url, api_key, timeout=60.0, retries=4, user_agent=None):
        if not url:
            raise ValueError("url is required, e.g. http://127.0.0.1:8080")
        if not api_key:
            raise ValueError("api_key is required")
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.user_agent = user_agent or "omtx-python/0.1.0"

    # ---- transport ----------------------------------------------------

    def _request(self, method, path, query=None, body=None, content_type=None, headers=None, raw=False):
        url = self.url + path
        if query:
            q = {k: v for k, v in query.items() if v is not None and v != ""}
            if q:
                url += "?" + urllib.parse.urlencode(q)
        hdrs = {"Authorization": "Bearer " + self.api_key, "User-Agent": self.user_agent}
        if not raw:
            hdrs["Accept"] = "application/json"
        if content_type:
            hdrs["Content-Type"] = content_type
        hdrs.update(headers or {})
        attempt = 0
        while True:
            req = urllib.request.Request(url, data=body, method=method, headers=hdrs)
            wait = None
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    data = resp.read()
                    if raw:
                        return data
                    return json.loads(data) if data else None
            except urllib.error.HTTPError as e:
                data = e.read()
                try:
                    decoded = json.loads(data) if data else None
                except ValueError:
                    decoded = None
                retry_after = _retry_after(e.headers.get("Retry-After"))
                err = error_from(e.code, decoded, retry_after)
                if e.code not in (429, 503) or attempt >= self.retries:
                    raise err from None
                wait = retry_after
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                if attempt >= self.retries:
                    raise APIError(0, "unreachable", "cannot reach %s: %s" % (self.url, e)) from None
            attempt += 1
            ceiling = min(0.5 * 2 ** attempt, 30.0)
            time.sleep(max(wait or 0, random.uniform(ceiling / 2, ceiling)))

    def _json(self, method, path, payload, idempotency_key=None, query=None):
        headers = {}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        body = json.dumps(payload).encode()
        return self._request(method, path, query=query, body=body, content_type="application/json", headers=headers)

    # ---- single predictions -------------------------------------------

    def predict(self, protein_sequence, ligand_smiles, ligand_name=None, model="boltz2",
                parameters=None, msa=None, notify_url=None, idempotency_key=None, target_id=None):
        """Submits one prediction; returns the 202 answer (job_id, status, model, warnings).

        protein_sequence is the one-chain target; or pass None and
        target_id (a target from create_target) for a complex.
        """
        payload = {"model": model, "ligand_smiles": ligand_smiles}
        if protein_sequence:
            payload["protein_sequence"] = protein_sequence
        if target_id:
            payload["target_id"] = target_id
        if ligand_name:
            payload["ligand_name"] = ligand_name
        if parameters:
            payload["parameters"] = parameters
        if msa:
            payload["msa"] = msa
        if notify_url:
            payload["notify_url"] = notify_url
        return self._json("POST", "/api/v1/predict", payload, idempotency_key or new_idempotency_key())

    def job(self, job_id):
        """The job document."""
        return self._request("GET", "/api/v1/jobs/" + urllib.parse.quote(job_id, safe=""))

    def jobs(self, status=None, page_size=50):
        """Every job of this key, newest first (follows the pages)."""
        token = None
        while True:
            page = self._request("GET", "/api/v1/jobs", query={"status": status, "page_size": page_size, "page_token": token})
            yield from page.get("jobs") or []
            token = page.get("next_page_token")
            if not token:
                return

    # ---- screens ------------------------------------------------------

    def screen(self, protein_sequence, ligands, name=None, model="boltz2", max_concurrent=None,
               parameters=None, skip_invalid=False, priority=None, notify_url=None, msa=None,
               idempotency_key=None, target_id=None, ranking=None, filters=None):
        """Submits a batch virtual screen of one target against ligands.

        The target is protein_sequence (one chain), or target_id (a target
        from create_target: chains, cofactors, constraints); ranking is
        "hit_discovery" (the default) or "lead_optimization".

        filters hold ligands back before any GPU time: a dict as the API's
        filters block, e.g. {"catalogs": ["pains_a", "reactive"],
        "molecular_weight": {"max": 500}, "smarts": ["C(=O)Cl"]} (windows:
        heavy_atoms, molecular_weight, hbd, hba, rotatable_bonds,
        formal_charge, each {"min", "max"}). A held-back ligand's row has
        status "filtered" and its filter_rule.

        ligands is one of: a list of SMILES strings; a list of dicts with
        "smiles" and optionally "name" (other keys become metadata columns);
        a path to a .csv, .tsv or .smi library file; or a pandas DataFrame
        (its columns are sent as the library's columns). Returns the 202
        answer (batch_id, total_ligands, ...).
        """
        key = idempotency_key or new_idempotency_key()
        fields = {"model": model}
        if protein_sequence:
            fields["protein_sequence"] = protein_sequence
        if target_id:
            fields["target_id"] = target_id
        if ranking:
            fields["ranking"] = ranking
        if filters:
            fields["filters"] = filters
        if name:
            fields["batch_name"] = name
        if max_concurrent:
            fields["max_concurrent"] = max_concurrent
        if parameters:
            fields["parameters"] = parameters
        if skip_invalid:
            fields["skip_invalid"] = True
        if priority:
            fields["priority"] = priority
        if notify_url:
            fields["notify_url"] = notify_url
        if msa:
            fields["msa"] = msa

        if isinstance(ligands, (str, os.PathLike)):
            path = os.fspath(ligands)
            with open(path, "rb") as f:
                return self._upload(fields, os.path.basename(path), f.read(), key)
        if _is_dataframe(ligands):
            return self._upload(fields, "library.csv", ligands.to_csv(index=False).encode(), key)
        rows = list(ligands)
        if all(isinstance(r, str) for r in rows):
            rows = [{"smiles": r} for r in rows]
        extra = sorted({k for r in rows for k in r} - {"name", "smiles"})
        if extra:
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=["name", "smiles"] + extra, extrasaction="ignore", lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow(r)
            return self._upload(fields, "library.csv", buf.getvalue().encode(), key)
        fields["ligands"] = [{"name": r.get("name", ""), "smiles": r["smiles"]} for r in rows]
        return self._json("POST", "/api/v1/predict/batch", fields, key)

    def _upload(self, fields, filename, data, idempotency_key):
        boundary = "omtx" + uuid.uuid4().hex
        out = io.BytesIO()
        for k, v in fields.items():
            if isinstance(v, (dict, list)):
                v = json.dumps(v)
            elif isinstance(v, bool):
                v = "true" if v else "false"
            out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary, k, v)).encode())
        safe = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
        out.write(("--%s\r\nContent-Disposition: form-data; name=\"library\"; filename=\"%s\"\r\n"
                   "Content-Type: application/octet-stream\r\n\r\n" % (boundary, safe)).encode())
        out.write(data)
        out.write(("\r\n--%s--\r\n" % boundary).encode())
        return self._request("POST", "/api/v1/predict/batch", body=out.getvalue(),
                             content_type="multipart/form-data; boundary=" + boundary,
                             headers={"Idempotency-Key": idempotency_key})

    def batch(self, batch_id):
        """The batch document, with live_progress while it runs."""
        return self._request("GET", "/api/v1/batches/" + urllib.parse.quote(batch_id, safe=""))

    def batch_jobs(self, batch_id, status=None, page_size=500):
        """Every child job of a batch, by batch_index (follows the pages)."""
        token = None
        while True:
            page = self._request("GET", "/api/v1/batches/%s/jobs" % urllib.parse.quote(batch_id, safe=""),
                                 query={"status": status, "page_size": page_size, "page_token": token})
            yield from page.get("jobs") or []
            token = page.get("next_page_token")
            if not token:
                return

    # ---- targets ------------------------------------------------------

    def create_target(self, target, files=None, name=None, ligand_chain=None):
        """Creates (or finds: targets are content-addressed) a target.

        target is a Boltz input YAML (a path to a .yaml/.yml file, or its
        text as str/bytes), or a dict in the API's JSON target shape.
        files maps the file names the target's msa:/template paths name
        (e.g. "seq1.a3m") to paths or bytes. Returns the target document
        (target_id, target_hash, chains, tokens, ...).
        """
        blobs = {}
        for fname, v in (files or {}).items():
            if isinstance(v, (str, os.PathLike)) and os.path.exists(v):
                with open(v, "rb") as f:
                    v = f.read()
            blobs[os.path.basename(fname)] = v if isinstance(v, bytes) else str(v).encode()
        if isinstance(target, dict):
            payload = {"target": target}
            if name:
                payload["name"] = name
            if blobs:
                payload["files"] = {k: v.decode() for k, v in blobs.items()}
            return self._json("POST", "/api/v1/targets", payload)
        if isinstance(target, os.PathLike) or (isinstance(target, str) and target.endswith((".yaml", ".yml")) and os.path.exists(target)):
            with open(target, "rb") as f:
                target = f.read()
        if isinstance(target, str):
            target = target.encode()
        fields = [("name", name), ("ligand_chain", ligand_chain)]
        boundary = "omtx" + uuid.uuid4().hex
        out = io.BytesIO()
        for k, v in fields:
            if v:
                out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary, k, v)).encode())
        parts = [("yaml", "target.yaml", target)] + [("file", n, b) for n, b in sorted(blobs.items())]
        for field, fname, data in parts:
            safe = fname.replace('"', "_").replace("\r", "_").replace("\n", "_")
            out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                       "Content-Type: application/octet-stream\r\n\r\n" % (boundary, field, safe)).encode())
            out.write(data)
            out.write(b"\r\n")
        out.write(("--%s--\r\n" % boundary).encode())
        return self._request("POST", "/api/v1/targets", body=out.getvalue(),
                             content_type="multipart/form-data; boundary=" + boundary)

    def target(self, target_id):
        """A target's document and the target itself."""
        return self._request("GET", "/api/v1/targets/" + urllib.parse.quote(target_id, safe=""))

    def targets(self, page_size=50):
        """Every target of this key, newest first (follows the pages)."""
        token = None
        while True:
            page = self._request("GET", "/api/v1/targets", query={"page_size": page_size, "page_token": token})
            yield from page.get("targets") or []
            token = page.get("next_page_token")
            if not token:
                return

    def target_yaml(self, target_id, ligand_smiles=None):
        """The target as Boltz input YAML (text)."""
        return self._request("GET", "/api/v1/targets/%s/boltz.yaml" % urllib.parse.quote(target_id, safe=""),
                             query={"ligand_smiles": ligand_smiles}, raw=True).decode()

    def delete_target(self, target_id):
        """Deletes a target's document (running jobs keep their copy)."""
        return self._request("DELETE", "/api/v1/targets/" + urllib.parse.quote(target_id, safe=""))

    # ---- waiting, results, files --------------------------------------

    def wait(self, id, timeout=None, interval=2.0, progress=False, out=None):
        """Polls a job or batch (by its id) until it ends; returns its document.

        progress=True prints one line per poll for a batch:
        "batch_x running: 12/50 done, 1 failed".
        """
        out = out or sys.stderr
        is_batch = id.startswith("batch_")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            doc = self.batch(id) if is_batch else self.job(id)
            status = doc.get("status")
            if progress and is_batch:
                p = doc.get("live_progress") or doc.get("progress") or {}
                done = p.get("completed", 0) + p.get("failed", 0) + p.get("cancelled", 0)
                print("%s %s: %d/%d done, %d failed" % (id, status, done, p.get("total", 0), p.get("failed", 0)), file=out)
            if status in TERMINAL:
                return doc
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("%s is still %s after %s s" % (id, status, timeout))
            time.sleep(interval)

    def results(self, id, as_dataframe=None):
        """Results of a job (its results block) or a batch (every ligand's row).

        For a batch: one dict per ligand from batch_results.csv, in rank
        order, ranked ligands first, numbers as floats. With pandas installed
        and as_dataframe not False, a DataFrame; as_dataframe=True requires
        pandas.
        """
        if not id.startswith("batch_"):
            return self.job(id).get("results")
        text = self.download(id, "batch_results.csv").decode("utf-8")
        rows = [_typed(r) for r in csv.DictReader(io.StringIO(text))]
        rows.sort(key=lambda r: (r.get("rank") is None, r.get("rank") or 0, r.get("batch_index") or 0))
        if as_dataframe is False:
            return rows
        try:
            import pandas as pd  # optional
        except ImportError:
            if as_dataframe:
                raise
            return rows
        return pd.DataFrame(rows)

    def download(self, id, name, to=None):
        """A job's or batch's file (e.g. "results.json", "batch_results.csv",
        "analysis/affinity_distribution.png"): its bytes, or written to the
        path `to` (returned)."""
        kind = "batches" if id.startswith("batch_") else "jobs"
        path = "/api/v1/%s/%s/files/%s" % (kind, urllib.parse.quote(id, safe=""), urllib.parse.quote(name, safe="/"))
        data = self._request("GET", path, raw=True)
        if to is None:
            return data
        with open(to, "wb") as f:
            f.write(data)
        return to

    def rerun(self, batch_id, which="failed", idempotency_key=None):
        """Starts a new batch of a finished batch's failed and/or cancelled
        ligands (which: "failed", "cancelled" or "failed_and_cancelled"),
        with the same protein, model and settings. The answer is a batch
        submission's, with "rerun_of" naming batch_id."""
        if which not in ("failed", "cancelled", "failed_and_cancelled"):
            raise ValueError('which must be "failed", "cancelled" or "failed_and_cancelled"')
        return self._json("POST", "/api/v1/batches/%s/rerun" % urllib.parse.quote(batch_id, safe=""),
                          {"which": which}, idempotency_key or new_idempotency_key())

    def cancel(self, id):
        """Cancels a job or a batch."""
        kind = "batches" if id.startswith("batch_") else "jobs"
        return self._request("POST", "/api/v1/%s/%s/cancel" % (kind, urllib.parse.quote(id, safe="")))

    def estimate(self, protein_sequence, ligands=None, num_ligands=None, model="boltz2", parameters=None,
                 filters=None):
        """GPU class, GPU seconds, cost and time for a request, before it is sent.

        With filters (as screen takes them) and a list of ligands, the
        answer's filtered_ligands and filter_hits say how many the filters
        would hold back, and by which rules; the GPU figures are for the rest.
        """
        payload = {"model": model, "protein_sequence": protein_sequence}
        if isinstance(ligands, str):
            payload["ligand_smiles"] = ligands
        elif ligands is not None:
            payload["ligands"] = [{"smiles": s} if isinstance(s, str) else {"name": s.get("name", ""), "smiles": s["smiles"]} for s in ligands]
        if num_ligands:
            payload["num_ligands"] = num_ligands
        if parameters:
            payload["parameters"] = parameters
        if filters:
            payload["filters"] = filters
        return self._json("POST", "/api/v1/estimate", payload)

    def webhook_secret(self):
        """The secret that signs this key's webhooks (see omtx.verify_signature)."""
        return self._request("GET", "/api/v1/webhook-secret")


def _retry_after(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


_INTS = ("rank", "batch_index")
_FLOATS = ("affinity_pred_value_log10_ic50_um", "pic50", "delta_g_kcal_mol",
           "affinity_probability_binary", "confidence", "ligand_iptm", "iptm")


def _typed(row):
    """A CSV row with numbers as numbers, empty cells as None, and the
    spreadsheet-formula guard (a leading quote) undone."""
    out = {}
    for k, v in row.items():
        if v == "":
            out[k] = None
        elif k in _INTS:
            out[k] = int(v)
        elif k in _FLOATS:
            out[k] = float(v)
        elif len(v) > 1 and v[0] == "'" and v[1] in "=+-@\t\r'":
            out[k] = v[1:]
        else:
            out[k] = v
    return out
