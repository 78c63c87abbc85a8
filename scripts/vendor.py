"""Vendor front-end files from the npm registry into the package, at build time.

Reads scripts/vendor.json, downloads each pinned tarball, checks its sha512
integrity, and copies the named files to src/kith/web/static/vendor/. The server
never loads anything from a CDN: after this step the package is self-contained.
Uses only the standard library, so it runs before any virtual environment exists.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "scripts" / "vendor.json"
TARGET = ROOT / "src" / "kith" / "web" / "static" / "vendor"
REGISTRY = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")


def tarball_url(name: str, version: str) -> str:
    base = name.split("/")[-1]
    return f"{REGISTRY}/{name}/-/{base}-{version}.tgz"


def fetch(name: str, version: str, integrity: str) -> bytes:
    url = tarball_url(name, version)
    with urllib.request.urlopen(url, timeout=60) as response:
        data: bytes = response.read()
    algorithm, _, expected = integrity.partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise SystemExit(f"integrity mismatch for {name}@{version}: refusing to vendor it")
    return data


def main() -> int:
    manifest = json.loads(MANIFEST.read_text())
    TARGET.mkdir(parents=True, exist_ok=True)
    for package in manifest["packages"]:
        data = fetch(package["name"], package["version"], package["integrity"])
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member, target in package["files"].items():
                extracted = archive.extractfile(member)
                if extracted is None:
                    raise SystemExit(f"{member} missing from {package['name']}")
                (TARGET / target).write_bytes(extracted.read())
        print(f"vendored {package['name']}@{package['version']}")
    (TARGET / ".stamp").write_text(MANIFEST.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
