# make run   - set up (.venv, install, compile catalogs) and start the helpdesk
# make test  - set up and run the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PO := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)

.PHONY: run test bench lint catalogs extract clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(STAMP)
	$(VENV)/bin/pybabel compile --use-fuzzy -d locales -D messages -l $* 2>/dev/null || \
		$(VENV)/bin/pybabel compile -d locales -D messages -l $*

catalogs: $(STAMP) $(MO)

run: catalogs
	$(PY) -m bot run

test: catalogs
	$(PY) -m pytest -q

bench: catalogs
	$(PY) scripts/bench_engine.py
	$(PY) scripts/bench_live.py
	$(PY) scripts/bench_telegram.py
	$(PY) scripts/bench_faults.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Re-extract UI strings into locales/messages.pot and merge them into the .po files.
extract: $(STAMP)
	$(VENV)/bin/pybabel extract --no-wrap -F babel.cfg -k N_ -o locales/messages.pot --no-location --sort-output bot console handlers
	$(VENV)/bin/pybabel update --no-wrap -i locales/messages.pot -d locales -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) locales/*/LC_MESSAGES/*.mo .pytest_cache
