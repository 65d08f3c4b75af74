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

from tito import links  # noqa: E402  (the one place for repository addresses: pyproject.toml [tool.tito])

# ---- where links go: learners to the student repository, "edit" and "issue" to the author repository ----
REPOSITORIES = links.repositories()
STUDENT_REPOSITORY = REPOSITORIES["student_repository"]
AUTHOR_REPOSITORY = REPOSITORIES["author_repository"]
BRANCH = REPOSITORIES["branch"]

project = "tinytorch"
author = "the tinytorch authors"
copyright = "the tinytorch authors (MIT licence)"

extensions = ["myst_nb", "sphinx_design", "sphinxcontrib.mermaid", "sphinx_copybutton"]
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
    "student_repository": f"[the student repository]({STUDENT_REPOSITORY})",
    "colab_install": f"`!pip install git+{STUDENT_REPOSITORY}`",   # Colab has numpy, not tinytorch
    "binder_all": f"[Launch Binder]({links.binder_url('modules', REPOSITORIES)})",
}
for _m in MODULES:
    _nb = _m.notebook.as_posix()
    myst_substitutions[f"binder_{_m.number}"] = f"[Launch Binder]({links.binder_url(_nb, REPOSITORIES)})"
    myst_substitutions[f"colab_{_m.number}"] = f"[Open in Colab]({links.colab_url(_nb, REPOSITORIES)})"
    myst_substitutions[f"view_{_m.number}"] = f"[View the notebook]({links.student_file_url(_nb, REPOSITORIES)})"
    # a Sphinx download: the build copies the notebook into the site (and fails if it is missing)
    myst_substitutions[f"download_{_m.number}"] = f"{{download}}`Download the notebook </../{_nb}>`"

# ---- myst-nb: execute the pages against the real package, cached ----
# The cache lives in a folder named after a hash of the package sources, the student notebooks, the registry and
# the page helpers, so a changed package re-executes
# every page (a cached figure can never disagree with the code) while an unchanged rebuild is fast.
_inputs = (sorted((ROOT / "tinytorch").rglob("*.py")) + [ROOT / m.notebook for m in MODULES]   # pages read both
           + [ROOT / "tito" / "registry.py", ROOT / "tito" / "booktools.py"])
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
    # the theme's "edit this page" and "open an issue" buttons: the author repository, where the book lives
    "repository_url": AUTHOR_REPOSITORY,
    "repository_branch": BRANCH,
    "path_to_docs": "book",
    "use_edit_page_button": True,
    "use_issues_button": True,
    "use_repository_button": False,   # the header's repository link is the student repository (_page_buttons)
    "use_source_button": False,       # the page's source is not what a learner wants; the notebook is
    "show_toc_level": 2,
}
# sphinx-copybutton: a copy button on code the reader runs (cell inputs, code blocks), not on printed output;
# prompts ($, >>>) are left out of what is copied
copybutton_selector = "div:not(.output) > div.highlight pre"
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
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


def _notebook_download(app, module):
    """The site path of the student notebook that a page's {download} link copied into _downloads/."""
    for source, (_, destination) in app.env.dlfiles.items():
        if (app.srcdir / source).resolve() == ROOT / module.notebook:
            return f"_downloads/{Path(destination).as_posix()}"
    return None


def _page_buttons(app, pagename, templatename, context, doctree):
    """Header buttons of a module page: launch the student notebook on Binder or Colab, download it, and
    the student repository next to the theme's edit/issue links (which go to the author repository)."""
    module = next((m for m in MODULES if pagename == f"modules/{m.slug}"), None)
    buttons = context.get("header_buttons")
    if buttons is None:
        return
    student = {"type": "link", "url": STUDENT_REPOSITORY, "text": "Student repository",
               "tooltip": "The course's student repository", "icon": "fab fa-github",
               "label": "student-repository-button"}
    for group in buttons:
        if group.get("label") == "source-buttons":
            group["buttons"].insert(0, student)
    if module is None:
        return
    notebook = module.notebook.as_posix()
    download = _notebook_download(app, module)
    if download is None:
        raise RuntimeError(f"{pagename}: the page has no {{download}} link to {notebook} (use {{{{ download_"
                           f"{module.number} }}}}), so the header cannot offer the student notebook")
    for group in buttons:
        if group.get("label") == "download-buttons":
            group["buttons"].insert(0, {
                "type": "link", "url": context["pathto"](download, 1), "text": "Student notebook (.ipynb)",
                "tooltip": "Download the student notebook", "icon": "fas fa-book",
                "label": "download-student-notebook-button"})
    buttons.insert(0, {
        "type": "group", "tooltip": "Launch the student notebook", "icon": "fas fa-rocket",
        "label": "launch-buttons", "buttons": [
            {"type": "link", "text": "Binder", "tooltip": "Launch on Binder", "label": "launch-binder-button",
             "icon": "_static/images/logo_binder.svg", "url": links.binder_url(notebook, REPOSITORIES)},
            {"type": "link", "text": "Colab", "tooltip": "Launch on Colab", "label": "launch-colab-button",
             "icon": "_static/images/logo_colab.png", "url": links.colab_url(notebook, REPOSITORIES)},
        ]})


def setup(app):
    # after the theme's own header buttons (priority 501)
    app.connect("html-page-context", _page_buttons, priority=600)


if not (BOOK / "_static" / "vendor" / "mermaid" / "mermaid.esm.min.mjs").exists():
    raise RuntimeError("book/_static/vendor/ is missing: build the book with `tito book` (it vendors mermaid and "
                       "MathJax from npm), or run `python -m tito.book`")
