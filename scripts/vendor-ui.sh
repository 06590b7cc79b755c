#!/usr/bin/env bash
# Refetches the results page's vendored npm files (api/ui/vendor.lock.json)
# with `npm pack` (no install, no scripts), checks each tarball against the
# recorded integrity, and copies the recorded files into api/ui/. A file the
# tarball does not hold (RDKit's license: the npm package ships none) is
# fetched from its pinned url instead. Run it to verify the vendored copies,
# or after changing a version in the lock (then update the sha256 values;
# api/ui_test.go checks them).
#
# --fetched brings only the files the lock marks "fetched" (too large to
# commit: RDKit's WebAssembly), and only when missing or not the recorded
# file: make tools and the API image's build run it. A copy already in
# .tools/rdkit (the RDKit that the chem tests run under node) is used when
# its sha256 is the recorded one, so nothing is downloaded twice.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lock="$root/api/ui/vendor.lock.json"
mode=${1:-all}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$lock" "$tmp" "$root/api/ui" "$root/.tools/rdkit/node_modules" "$mode" <<'PY'
import base64, hashlib, json, os, subprocess, sys, tarfile, urllib.request
lock, tmp, dest, local, mode = sys.argv[1:]
fetched_only = mode == "--fetched"

def sha(data):
    return hashlib.sha256(data).hexdigest()

def current(path, want):
    return os.path.exists(path) and sha(open(path, "rb").read()) == want

for pkg in json.load(open(lock))["packages"]:
    spec = f'{pkg["name"]}@{pkg["version"]}'
    files = {out: f for out, f in pkg["files"].items() if not fetched_only or f.get("fetched")}
    if fetched_only:
        files = {out: f for out, f in files.items() if not current(f"{dest}/{out}", f["sha256"])}
        for out, f in list(files.items()):
            copy = os.path.join(local, pkg["name"], f["from"].removeprefix("package/"))
            if current(copy, f["sha256"]):
                open(f"{dest}/{out}", "wb").write(open(copy, "rb").read())
                del files[out]
    if not files:
        continue
    subprocess.run(["npm", "pack", "--silent", spec], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    tgz = f'{tmp}/{pkg["tarball"]}'
    algo, want = pkg["integrity"].split("-", 1)
    got = base64.b64encode(hashlib.new(algo, open(tgz, "rb").read()).digest()).decode()
    if got != want:
        sys.exit(f"{spec}: tarball integrity {algo}-{got} is not the recorded {pkg['integrity']}")
    with tarfile.open(tgz) as t:
        for out, f in files.items():
            src = f.get("from") or f["url"]
            if "from" in f:
                data = t.extractfile(f["from"]).read()
            else:
                data = urllib.request.urlopen(f["url"], timeout=60).read()
            if sha(data) != f["sha256"]:
                sys.exit(f"{spec}: {src} does not have the recorded sha256")
            open(f"{dest}/{out}", "wb").write(data)
    print(f"vendor-ui: {spec} ok", file=sys.stderr)
PY
