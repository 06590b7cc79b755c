#!/usr/bin/env bash
# Refetches the results page's vendored npm files (api/ui/vendor.lock.json)
# with `npm pack` (no install, no scripts), checks each tarball against the
# recorded integrity, and copies the recorded files into api/ui/. A file the
# tarball does not hold (RDKit's license: the npm package ships none) is
# fetched from its pinned url instead. Run it to verify the vendored copies,
# or after changing a version in the lock (then update the sha256 values;
# api/ui_test.go checks them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lock="$root/api/ui/vendor.lock.json"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$lock" "$tmp" "$root/api/ui" <<'PY'
import base64, hashlib, json, subprocess, sys, tarfile, urllib.request
lock, tmp, dest = sys.argv[1:]
for pkg in json.load(open(lock))["packages"]:
    spec = f'{pkg["name"]}@{pkg["version"]}'
    subprocess.run(["npm", "pack", "--silent", spec], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
    tgz = f'{tmp}/{pkg["tarball"]}'
    algo, want = pkg["integrity"].split("-", 1)
    got = base64.b64encode(hashlib.new(algo, open(tgz, "rb").read()).digest()).decode()
    if got != want:
        sys.exit(f"{spec}: tarball integrity {algo}-{got} is not the recorded {pkg['integrity']}")
    with tarfile.open(tgz) as t:
        for out, f in pkg["files"].items():
            src = f.get("from") or f["url"]
            if "from" in f:
                data = t.extractfile(f["from"]).read()
            else:
                data = urllib.request.urlopen(f["url"], timeout=60).read()
            if hashlib.sha256(data).hexdigest() != f["sha256"]:
                sys.exit(f"{spec}: {src} does not have the recorded sha256")
            open(f"{dest}/{out}", "wb").write(data)
    print(f"vendor-ui: {spec} ok")
PY
