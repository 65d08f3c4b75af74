"""The repositories' addresses, read from `[tool.tito]` in pyproject.toml, the one place they are set.

- `student_repository`: the published student repository (what `tito release --student OUT` writes, no
  solutions). Everything a learner opens points there: Binder, Colab, notebook views and downloads.
- `author_repository`: this repository, with the solutions and hidden tests. Only "edit this page" and
  "open an issue" point there.
- `branch`: the branch of both.

Standard library only, so that any tool (the book, a README badge) can import it cheaply.
"""
import tomllib
from pathlib import Path
from urllib.parse import quote

from . import TitoError

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
KEYS = ("student_repository", "author_repository", "branch")
BINDER = "https://mybinder.org"
COLAB = "https://colab.research.google.com"


def repositories(pyproject=PYPROJECT):
    """{"student_repository": url, "author_repository": url, "branch": name} from [tool.tito]."""
    with open(pyproject, "rb") as file:
        table = tomllib.load(file).get("tool", {}).get("tito", {})
    missing = [key for key in KEYS if not table.get(key)]
    if missing:
        raise TitoError(f"{pyproject}: [tool.tito] needs {', '.join(missing)}")
    for key in ("student_repository", "author_repository"):
        if not _github_path(table[key]):
            raise TitoError(f"{pyproject}: [tool.tito] {key} = {table[key]!r} is not "
                             "https://github.com/OWNER/NAME (Binder and Colab open GitHub repositories)")
    return {key: table[key].rstrip("/") for key in KEYS}


def _github_path(url):
    """'OWNER/NAME' of a https://github.com/OWNER/NAME address, else None."""
    rest = url.rstrip("/").removeprefix("https://github.com/")
    return rest if rest != url.rstrip("/") and rest.count("/") == 1 else None


def binder_url(path=None, addresses=None):
    """Binder on the student repository, opening `path` (e.g. a notebook) in JupyterLab when given."""
    addresses = addresses or repositories()
    url = f"{BINDER}/v2/gh/{_github_path(addresses['student_repository'])}/{addresses['branch']}"
    return f"{url}?labpath={quote(path)}" if path else url


def colab_url(path, addresses=None):
    """Google Colab opening the notebook `path` of the student repository."""
    addresses = addresses or repositories()
    return f"{COLAB}/github/{_github_path(addresses['student_repository'])}/blob/{addresses['branch']}/{path}"


def student_file_url(path, addresses=None):
    """The page of file `path` in the student repository."""
    addresses = addresses or repositories()
    return f"{addresses['student_repository']}/blob/{addresses['branch']}/{path}"
