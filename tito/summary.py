"""Print where each product of `make course` is (the last thing `make course` shows)."""
from rich.console import Console
from rich.table import Table

from .registry import MODULES, ROOT


def products():
    """(product, location, present?) for everything the course builds."""
    rows = [("package", "tinytorch/ (import tinytorch)", (ROOT / "tinytorch" / "__init__.py").exists())]
    for m in MODULES:
        rows.append((f"{m.number} {m.title}: package file", str(m.package_file),
                     (ROOT / m.package_file).exists()))
        rows.append((f"{m.number} {m.title}: student notebook", str(m.notebook),
                     (ROOT / m.notebook).exists()))
    rows.append(("nbgrader course", "course/ (source/, release/, gradebook.db)",
                 (ROOT / "course" / "release").exists()))
    book = ROOT / "book" / "_build" / "html" / "index.html"
    if (ROOT / "book").exists():
        rows.append(("book", str(book.relative_to(ROOT)), book.exists()))
    return rows


def main():
    table = Table(title="make course: the products")
    for column in ("product", "where", "built"):
        table.add_column(column)
    for name, where, present in products():
        table.add_row(name, where, "[green]yes[/green]" if present else "[red]no[/red]")
    Console().print(table)


if __name__ == "__main__":
    main()
