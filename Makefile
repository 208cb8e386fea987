# creditguard: `make run` starts the whole system locally, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
INSTALLED := $(VENV)/.installed

.PHONY: run test check lint static install lock asyncapi model-score bench deploy-files prometheus chromium demo clean help

help:
	@echo "make run    - set up, migrate, start the broker, the three services and the console on free ports, restart what dies (Ctrl-C stops)"
	@echo "make test   - set up, run the static checks, then the whole suite against SQLite and PostgreSQL"
	@echo "make check  - the static checks (ruff lint and format, mypy) and the unit tests: no broker, no database server, under a minute"
	@echo "make lock   - re-pin requirements.lock from requirements.in"
	@echo "make demo   - simulate a year of a 2,000-buyer book through the live system; report in var/simulation/report/"

$(INSTALLED): requirements.lock shared/pyproject.toml services/*/pyproject.toml simulation/pyproject.toml tools/local/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip sync --python $(PY) -q requirements.lock
	@touch $@

install: $(INSTALLED)

lock:
	$(UV) pip compile requirements.in -o requirements.lock --python-version 3.11 -q

run: $(INSTALLED)
	$(PY) -m creditguard_local.stack --var-dir var

# Two test processes by default (TEST_WORKERS=1 runs them one after another): a test spends most of
# its time waiting on a service, the broker or a database, so the second process uses the idle core.
TEST_WORKERS ?= 2
test: $(INSTALLED) prometheus chromium static
	$(PY) -m pytest -n $(TEST_WORKERS)

# Lint, formatting and types; configured in pyproject.toml. `ruff format .` rewrites what the check rejects.
lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

static: lint
	$(VENV)/bin/mypy

# The fast tier: lint, then types and the tests marked `unit` (conftest.py marks every test that needs
# neither the broker, nor a database server, nor a started service) side by side, one core each: mypy
# and pytest are single-threaded, and on a fresh clone mypy spends most of its time building its cache.
check: lint
	@$(VENV)/bin/mypy & types=$$!; \
	  $(PY) -m pytest -m unit -q; tests=$$?; \
	  wait $$types; typed=$$?; \
	  test $$tests -eq 0 && test $$typed -eq 0

# The operations test runs a real Prometheus (Debian's package) against the services.
prometheus:
	@command -v prometheus >/dev/null || { echo "installing Debian's prometheus for the operations test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }

# The console's browser tests drive Debian's headless Chromium (Playwright launches it by path).
chromium:
	@command -v chromium >/dev/null || { echo "installing Debian's chromium for the console's browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null; }

# Score a file in the Polish-bankruptcy format (company, X1..X64) with the committed model: writes company,pd.
model-score: $(INSTALLED)
	@test -n "$(IN)" -a -n "$(OUT)" || { echo "usage: make model-score IN=<csv> OUT=<csv>"; exit 2; }
	$(PY) -m creditguard_scoring.financial_model.score_file "$(IN)" "$(OUT)"

# Every benchmark under bench/ prints its own figures.
bench: $(INSTALLED)
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

# A year of a 2,000-buyer book under every order approved, static limits and creditguard (live,
# through its own broker and services), in the base year and a downturn, plus a risk-appetite
# sweep. The report goes to var/simulation/report/; DEMO_OUT=docs/report rewrites the committed one.
# Options pass through, e.g. make demo DEMO_ARGS="--buyers 500 --seed 3" (creditguard-simulate --help).
DEMO_OUT ?= var/simulation/report
demo: $(INSTALLED)
	$(VENV)/bin/creditguard-simulate --out $(DEMO_OUT) $(DEMO_ARGS)

asyncapi: $(INSTALLED)
	$(PY) -m creditguard_shared.events.asyncapi --out docs/asyncapi.json

# Regenerate the Grafana dashboards and Kubernetes manifests from their Python sources.
deploy-files: $(INSTALLED)
	$(PY) deploy/grafana/build_dashboards.py
	$(PY) deploy/kubernetes/build_manifests.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
