"""Build the book: ship mermaid and MathJax locally (from pinned npm packages), then run Sphinx.

The book must load nothing from outside the served site, so the two JavaScript libraries it needs come from
their npm packages, fetched with `npm pack` (the package tarball only, checked against the pinned integrity
hash) into build/npm/ and copied, with their licences, into book/_static/vendor/ (generated, not committed).
When the vendored copy already matches the pins, nothing is fetched, so a rebuild works offline.
"""
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from . import TitoError
from .registry import ROOT

BOOK = ROOT / "book"
HTML = BOOK / "_build" / "html"
VENDOR = BOOK / "_static" / "vendor"
NPM_CACHE = ROOT / "build" / "npm"

# name -> (version, npm integrity of the tarball, files to ship: (path inside the package, path under vendor/))
PINS = {
    "mermaid": ("11.12.1", "sha512-UlIZrRariB11TY1RtTgUWp65tphtBv4CSq7vyS2ZZ2TgoMjs2nloq+wFqxiwcxlhHUvs7DPGgMjs2aeQxz5h9g==", (
        ("dist/mermaid.esm.min.mjs", "mermaid/mermaid.esm.min.mjs"),
        ("dist/chunks/mermaid.esm.min", "mermaid/chunks/mermaid.esm.min"),
        ("LICENSE", "mermaid/LICENSE"),
    )),
    "mathjax": ("3.2.2", "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==", (
        ("es5", "mathjax"),
        ("LICENSE", "mathjax/LICENSE"),
    )),
}
# not needed by the book (it loads mathjax/tex-mml-chtml.js): source maps, the speech engine, the SVG output and
# the other combined MathJax builds
SKIP = ("*.map", "sre", "*svg*", "tex-chtml*.js", "mml-chtml.js", "node-main.js")


def _stamp():
    return {name: version for name, (version, _, _) in PINS.items()}


def _integrity(path):
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def _fetch(name, version, integrity):
    """The package tarball in build/npm/, downloaded with `npm pack` when missing."""
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    tarball = NPM_CACHE / f"{name}-{version}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise TitoError(f"the book needs {name}@{version} from npm, and `npm` is not installed "
                               "(install Node.js and npm, e.g. `apt-get install -y npm`)")
        out = subprocess.run([npm, "pack", f"{name}@{version}", "--json", "--pack-destination", str(NPM_CACHE)],
                             check=True, capture_output=True, text=True).stdout
        info = json.loads(out)[0]
        tarball = NPM_CACHE / info["filename"]
        if integrity is None:
            integrity = info["integrity"]
    if integrity is not None and _integrity(tarball) != integrity:
        tarball.unlink()
        raise RuntimeError(f"{name}@{version}: the downloaded tarball does not match the pinned integrity")
    return tarball


def vendor(force=False):
    """Make book/_static/vendor/ hold exactly the pinned mermaid and MathJax files; return its path."""
    stamp_file = VENDOR / "PINS.json"
    if not force and stamp_file.exists() and json.loads(stamp_file.read_text()) == _stamp():
        return VENDOR
    shutil.rmtree(VENDOR, ignore_errors=True)
    staging = NPM_CACHE / "unpacked"
    for name, (version, integrity, files) in PINS.items():
        tarball = _fetch(name, version, integrity)
        target = staging / name
        shutil.rmtree(target, ignore_errors=True)
        with tarfile.open(tarball) as archive:
            archive.extractall(target, filter="data")
        package = target / "package"
        for source, destination in files:
            source, destination = package / source, VENDOR / destination
            destination.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, destination, ignore=shutil.ignore_patterns(*SKIP), dirs_exist_ok=True)
            else:
                shutil.copy2(source, destination)
    stamp_file.write_text(json.dumps(_stamp(), indent=1) + "\n")
    return VENDOR


def build(extra_args=()):
    """Vendor the JavaScript, then `sphinx -W --keep-going -b html book book/_build/html`; return the exit code."""
    vendor()
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", *extra_args,
               str(BOOK), str(HTML)]
    return subprocess.run(command, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(build(sys.argv[1:]))
