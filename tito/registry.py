"""The one list of course modules. Every command, test and book page reads it."""
from dataclasses import dataclass
from pathlib import Path

from . import TitoError

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Module:
    number: str          # "06"
    name: str            # "autograd"
    title: str           # "Autograd"
    export: str          # nbdev target, e.g. "core.autograd"
    prerequisites: tuple = ()
    graded: bool = False  # graded modules are shipped to students as stubs

    @property
    def slug(self) -> str:
        return f"{self.number}_{self.name}"

    # Paths relative to a repository's root: `root / module.source` in the author tree, a scratch copy or a
    # student repository alike (ROOT is this checkout's).
    @property
    def source(self) -> Path:
        return Path("src") / self.slug / f"{self.slug}.py"

    @property
    def notebook(self) -> Path:
        return Path("modules") / self.slug / f"{self.name}.ipynb"

    @property
    def package_file(self) -> Path:
        return Path("tinytorch", *self.export.split(".")).with_suffix(".py")

    @property
    def test_file(self) -> Path:
        return Path("tests") / "modules" / f"test_{self.slug}.py"


MODULES = (
    Module("01", "tensor", "Tensor", "core.tensor"),
    Module("02", "activations", "Activations", "core.activations", ("01",)),
    Module("03", "layers", "Layers", "core.layers", ("01", "02")),
    Module("04", "losses", "Losses", "core.losses", ("01", "02")),
    Module("05", "dataloader", "DataLoader", "core.dataloader", ("01",)),
    Module("06", "autograd", "Autograd", "core.autograd",
           ("01", "02", "03", "04", "05"), graded=True),
)


def find(key: str) -> Module:
    """Look a module up by number ("6", "06") or name ("autograd", "06_autograd")."""
    key = key.strip().lower()
    for module in MODULES:
        if key in (module.number, module.number.lstrip("0"), module.name, module.slug):
            return module
    known = ", ".join(m.slug for m in MODULES)
    raise TitoError(f"no module {key!r}; known modules: {known}")
