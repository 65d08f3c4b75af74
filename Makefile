# Two commands on a fresh machine: `make course` builds every product, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
TITO   := $(PY) -m tito
EXTRAS := authoring,grading,tests,book,bench,differential

.PHONY: course test venv export release check lab book bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

venv: $(VENV)/.installed

export: venv
	$(TITO) export --all

release: venv
	$(TITO) release --all

check: venv
	$(TITO) check

course: export release check
	$(TITO) test
	$(TITO) book
	@$(PY) -m tito.summary

test: venv
	$(TITO) check
	$(PY) -m pytest -q -n 2 --dist loadfile || [ $$? -eq 5 ]

book: venv
	$(TITO) book

bench: venv
	$(TITO) bench

lab: venv
	$(TITO) lab

clean:
	rm -rf build course/source course/release course/gradebook.db
