"""A PEP 517 build backend in the standard library alone.

pip builds a package in an isolated environment and installs the backend
that pyproject.toml names from the package index first. This project's
machines reach no Python index, so the backend lives in the tree
(backend-path) and needs nothing: `pip install ./clients/python` works
offline. It writes a pure-Python wheel of the omtx package (PEP 427) and an
sdist; the metadata comes from pyproject.toml's [project] table.
"""

import base64
import hashlib
import io
import os
import tarfile
import zipfile

try:
    import tomllib  # Python 3.11+
except ImportError:  # pragma: no cover
    tomllib = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _project():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        data = f.read()
    if tomllib is not None:
        return tomllib.loads(data.decode())["project"]
    # Python < 3.11: the few keys this file uses, read line by line.
    proj, section = {}, None
    for line in data.decode().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "project" and "=" in line and line.split("=", 1)[1].strip().startswith('"'):
            k, v = line.split("=", 1)
            proj[k.strip()] = v.strip().strip('"')
    return proj


def _metadata():
    p = _project()
    lines = ["Metadata-Version: 2.1", "Name: %s" % p["name"], "Version: %s" % p["version"],
             "Summary: %s" % p.get("description", ""), "Requires-Python: %s" % p.get("requires-python", ">=3.9"),
             "Provides-Extra: pandas", "Requires-Dist: pandas; extra == \"pandas\""]
    readme = os.path.join(ROOT, "README.md")
    body = ""
    if os.path.exists(readme):
        lines.append("Description-Content-Type: text/markdown")
        with open(readme) as f:
            body = "\n" + f.read()
    return p, "\n".join(lines) + "\n" + body


def _files():
    pkg = os.path.join(ROOT, "omtx")
    for name in sorted(os.listdir(pkg)):
        if name.endswith(".py"):
            yield "omtx/" + name, os.path.join(pkg, name)


def _digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    p, meta = _metadata()
    dist = "%s-%s" % (p["name"], p["version"])
    name = dist + "-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        def add(arc, data):
            z.writestr(zipfile.ZipInfo(arc, date_time=(2026, 1, 1, 0, 0, 0)), data)
            record.append("%s,%s,%d" % (arc, _digest(data), len(data)))
        for arc, path in _files():
            with open(path, "rb") as f:
                add(arc, f.read())
        info = dist + ".dist-info/"
        add(info + "METADATA", meta.encode())
        add(info + "WHEEL", b"Wheel-Version: 1.0\nGenerator: omtx_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        record.append(info + "RECORD,,")
        z.writestr(zipfile.ZipInfo(info + "RECORD", date_time=(2026, 1, 1, 0, 0, 0)), "\n".join(record) + "\n")
    return name


def build_sdist(sdist_directory, config_settings=None):
    p, meta = _metadata()
    dist = "%s-%s" % (p["name"], p["version"])
    name = dist + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in ["pyproject.toml", "README.md", "_build/omtx_build.py"] + [a for a, _ in _files()]:
            t.add(os.path.join(ROOT, rel), arcname=dist + "/" + rel)
        info = tarfile.TarInfo(dist + "/PKG-INFO")
        data = meta.encode()
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return name
