"""Sphinx configuration of the tinytorch book (built by `tito book` / `make book`)."""
import hashlib
import os
import sys
from pathlib import Path

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent
sys.path.insert(0, str(ROOT))
# the notebook kernels import the real package from this checkout
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

from tito.registry import MODULES  # noqa: E402  (the one list of modules)

# Speed: jsonschema (imported by nbformat, imported by myst-nb) optionally imports `rfc3987_syntax`, which
# compiles ~40 lark grammars at import time (about 5 s) for "iri" format checks that notebook validation never
# uses. Marking it unavailable makes jsonschema skip those checks; nothing else changes.
sys.modules.setdefault("rfc3987_syntax", None)

# ---- the ONE configured repository: every Binder and view-source link is built from it ----
REPOSITORY_URL = "https://github.com/tinytorch-course/tinytorch"
BRANCH = "main"
BINDER_URL = "https://mybinder.org"

_owner_repo = REPOSITORY_URL.removeprefix("https://github.com/")


def _binder(path):
    return f"{BINDER_URL}/v2/gh/{_owner_repo}/{BRANCH}?labpath={path}"


def _source(path):
    return f"{REPOSITORY_URL}/blob/{BRANCH}/{path}"


project = "tinytorch"
author = "the tinytorch authors"
copyright = "the tinytorch authors (MIT licence)"

extensions = ["myst_nb", "sphinx_design", "sphinxcontrib.mermaid"]
exclude_patterns = ["_build", "_static", "Thumbs.db", ".DS_Store"]

# ---- every module of the registry has exactly one page, book/modules/<slug>.md ----
_pages = {p.stem for p in (BOOK / "modules").glob("*.md")}
_slugs = {m.slug for m in MODULES}
if _pages != _slugs:
    raise RuntimeError(f"book/modules/ must hold one page per registry module: missing {sorted(_slugs - _pages)}, "
                       f"unknown {sorted(_pages - _slugs)}")

# ---- MyST ----
myst_enable_extensions = ["colon_fence", "dollarmath", "amsmath", "substitution", "deflist"]
myst_heading_anchors = 3
myst_substitutions = {
    "repository": f"[{_owner_repo}]({REPOSITORY_URL})",
    "binder_all": f"[Launch Binder]({_binder('modules')})",
}
for _m in MODULES:
    _nb = _m.notebook.relative_to(ROOT).as_posix()
    _src = _m.source.relative_to(ROOT).as_posix()
    myst_substitutions[f"binder_{_m.number}"] = f"[Launch Binder]({_binder(_nb)})"
    myst_substitutions[f"source_{_m.number}"] = f"[View source]({_source(_src)})"
    myst_substitutions[f"package_{_m.number}"] = f"[`{_m.package_file.relative_to(ROOT).as_posix()}`]" \
                                                 f"({_source(_m.package_file.relative_to(ROOT).as_posix())})"

# ---- myst-nb: execute the pages against the real package, cached ----
# The cache lives in a folder named after a hash of the package sources (and the registry and page helpers), so a changed package re-executes
# every page (a cached figure can never disagree with the code) while an unchanged rebuild is fast.
_inputs = sorted((ROOT / "tinytorch").rglob("*.py")) + [ROOT / "tito" / "registry.py", ROOT / "tito" / "booktools.py"]
_package_hash = hashlib.sha256(b"".join(p.read_bytes() for p in _inputs))
nb_execution_mode = "cache"
nb_execution_cache_path = str(BOOK / "_build" / ".jupyter_cache" / _package_hash.hexdigest()[:16])
nb_execution_timeout = 120
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_render_markdown_format = "myst"
nb_merge_streams = True

# ---- HTML, entirely offline ----
html_theme = "sphinx_book_theme"
html_title = "tinytorch: build autograd"
html_static_path = ["_static"]
html_css_files = ["tinytorch.css"]
html_theme_options = {
    "repository_url": REPOSITORY_URL,
    "repository_branch": BRANCH,
    "use_repository_button": True,
    "use_source_button": True,
    "path_to_docs": "book",
    "show_toc_level": 2,
}
html_favicon = "_static/favicon.svg"        # so browsers do not ask for a missing /favicon.ico
html_context = {"default_mode": "light"}    # the theme's colour mode (an empty one logs a console error)
# MathJax 3 from the npm package `mathjax`, copied into _static/vendor by tito/book.py (relative to _static)
mathjax_path = "vendor/mathjax/tex-mml-chtml.js"
# mermaid from the npm package `mermaid`, same place (relative to _static)
mermaid_use_local = "vendor/mermaid/mermaid.esm.min.mjs"
mermaid_version = ""
mermaid_d3_zoom = False
mermaid_fullscreen = False
mermaid_height = "auto"     # the diagram's own height, not a fixed 500px box

if not (BOOK / "_static" / "vendor" / "mermaid" / "mermaid.esm.min.mjs").exists():
    raise RuntimeError("book/_static/vendor/ is missing: build the book with `tito book` (it vendors mermaid and "
                       "MathJax from npm), or run `python -m tito.book`")
