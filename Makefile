# The two commands: `make run` (install everything, prepare the embedded defaults, serve)
# and `make test` (the whole suite). Both are safe to run again. `make docs` builds the
# documentation site (docs/, MkDocs) into var/site/ with warnings as errors.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The address every SMS, e-mail and seal snippet of `make run` links to (and `seed_demo` prints):
# the one runserver serves, unless PUBLIC_BASE_URL is set. A wildcard HOST (0.0.0.0, ::) is served
# on every address, so the links name the loopback one.
RUN_HOST := $(if $(filter 0.0.0.0 :: [::],$(HOST)),127.0.0.1,$(HOST))
# Runtime: SoftHSM2 + pkcs11-tool (tokens), Pango/HarfBuzz (WeasyPrint), Noto fonts (Persian
# glyphs for pages and PDFs), OpenSSL (outside client of our CRL/OCSP), poppler (pdftotext,
# pdffonts, pdftoppm), the PC/SC library and daemon (OpenSC's module fails C_Initialize without
# libpcsclite1; a real USB token needs pcscd running), the PostgreSQL client (pg_dump/pg_restore
# for `manage.py backup`/`restore`).
APT_RUN := softhsm2 opensc libpcsclite1 pcscd openssl libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
           fonts-noto-core poppler-utils ca-certificates postgresql-client
# Tests: Chromium (driven by Playwright through executable_path), docker-compose (config check),
# a C compiler and libc headers (bench/ocsp_load.c, built by tests/pki/test_bench_ocsp_load.py),
# Redis (server and redis-cli), PostgreSQL's server binaries (the outage drills start their own), GnuTLS's
# certtool (an outside validator of our certificates, tests/pki/test_outside_validators.py).
APT_TEST := chromium docker-compose libatomic1 gcc libc6-dev redis-server redis-tools postgresql gnutls-bin
# wrk: the benchmarks' HTTP load client (bench/wrk_client.py, tested by tests/perf/test_wrk_client.py).
APT_TEST += wrk
# The production topology on this machine (make prod, make prod-check): nginx as the TLS proxy,
# PostgreSQL and Redis servers (prod-check starts throwaway ones of its own).
APT_PROD := nginx postgresql redis-server
# Benchmarks (bench/pages.py, bench/pki.py): wrk, an HTTP load client nobody here wrote.
APT_BENCH := wrk
FONT_SRC := /usr/share/fonts/truetype/noto
FONTS := NotoSansArabic-Regular.ttf NotoSansArabic-Bold.ttf NotoSans-Regular.ttf NotoSans-Bold.ttf

.PHONY: run test prod prod-stop prod-check system-deps system-deps-test system-deps-prod install fonts prepare lint check-deploy docs docs-screenshots clean

run prepare: export PUBLIC_BASE_URL ?= http://$(RUN_HOST):$(PORT)
run: system-deps install fonts prepare
	@echo "Serving on http://$(HOST):$(PORT)/ (links in SMS and e-mails: $$PUBLIC_BASE_URL)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# The suite on TEST_PROCESSES processes (pytest-xdist; 0: one process), whole files to each: a
# file's tests keep their order and their module fixtures. tests/xdist_env.py gives each process a
# Redis database of its own; pytest-django gives each a test database. 2 on a 2-core machine:
# 24:51 → 12:06 on PostgreSQL, 2026-12-07 (docs/developer/testing.md).
TEST_PROCESSES ?= 2
test: system-deps system-deps-test install fonts oidc-provider axe-core
	$(PY) -m pytest -p tests.xdist_env -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

# The national-window e2e tests' OpenID provider: panva's oidc-provider, exactly as the committed
# tests/e2e/oidc/package-lock.json says, from npm's default registry into var/oidc-provider/.
# Node.js is in APT_TEST; npm is Debian's package unless an npm is already on the PATH (a Node.js
# installed from elsewhere bundles its own npm, and Debian's npm package would make apt replace it).
APT_TEST += nodejs
OIDC_PROVIDER_DIR := var/oidc-provider
.PHONY: oidc-provider
oidc-provider: $(OIDC_PROVIDER_DIR)/.installed

$(OIDC_PROVIDER_DIR)/.installed: tests/e2e/oidc/package.json tests/e2e/oidc/package-lock.json | system-deps-test
	@command -v npm >/dev/null || scripts/ensure-apt.sh npm
	mkdir -p $(OIDC_PROVIDER_DIR)
	cp tests/e2e/oidc/package.json tests/e2e/oidc/package-lock.json $(OIDC_PROVIDER_DIR)/
	cd $(OIDC_PROVIDER_DIR) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

# Deque's axe-core, the accessibility engine tests/e2e/test_accessibility.py injects into each
# page (no serious or critical violation allowed): exactly as the committed
# tests/e2e/axe/package-lock.json says, from npm's default registry into var/axe-core/
# (axe.min.js at var/axe-core/node_modules/axe-core/axe.min.js).
AXE_CORE_DIR := var/axe-core
.PHONY: axe-core
axe-core: $(AXE_CORE_DIR)/.installed

$(AXE_CORE_DIR)/.installed: tests/e2e/axe/package.json tests/e2e/axe/package-lock.json | system-deps-test
	@command -v npm >/dev/null || scripts/ensure-apt.sh npm
	mkdir -p $(AXE_CORE_DIR)
	cp tests/e2e/axe/package.json tests/e2e/axe/package-lock.json $(AXE_CORE_DIR)/
	cd $(AXE_CORE_DIR) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

system-deps:
	@scripts/ensure-apt.sh $(APT_RUN)

system-deps-test:
	@scripts/ensure-apt.sh $(APT_TEST)

system-deps-prod:
	@scripts/ensure-apt.sh $(APT_PROD)

.PHONY: bench-deps
bench-deps:
	@scripts/ensure-apt.sh $(APT_BENCH)

# Debian's python3 has no venv module until python3-venv is installed: install it and retry.
$(PY):
	@$(PYTHON) -m venv $(VENV) >/dev/null 2>&1 || { rm -rf $(VENV); scripts/ensure-apt.sh python3-venv && $(PYTHON) -m venv $(VENV); }

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# The documentation's tools (the `docs` extra: MkDocs, Material, awesome-nav), next to the dev ones.
$(VENV)/.docs-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e '.[dev,docs]'
	touch $@

# Builds docs/ into var/site/; scripts/docs_hooks.py generates the configuration and command
# references at build time. --strict: a broken link, anchor or nav entry fails the build (never
# add --quiet: it hides the warnings from --strict, and the build then passes with them).
docs: $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict
	@echo "Documentation built: var/site/index.html"

# Copies the e2e screenshots (var/screenshots/, written by `make test`) that the docs pages show
# into docs/img/, scaled down; commit them with the pages.
docs-screenshots: install
	$(PY) scripts/docs_screenshots.py

# The process supervisor of `make prod` (the `prod` extra: supervisor), next to the dev tools.
$(VENV)/.prod-installed: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e '.[dev,prod]'
	touch $@

# The deployed topology on 127.0.0.1 (scripts/prod.py): nginx (TLS, HTTPS 18543, plain HTTP
# /ca/ on 18580), two web and two OCSP processes, the workers and beat under supervisord, on the
# machine's PostgreSQL and Redis (DATABASE_URL / REDIS_URL). Ctrl-C or `make prod-stop` stops it.
prod: system-deps system-deps-prod fonts $(VENV)/.prod-installed
	$(PY) scripts/prod.py up

prod-stop:
	@$(PY) scripts/prod.py down

# The topology on a throwaway PostgreSQL and Redis, the journeys and fault drills of tests/prod/
# in Chromium through nginx; stops what it started; one line per failed drill (scripts/prod_check.py).
prod-check: system-deps system-deps-test system-deps-prod fonts $(VENV)/.prod-installed
	$(PY) scripts/prod_check.py $(PYTEST_ARGS)

fonts: $(addprefix static/fonts/,$(FONTS))

static/fonts/%.ttf: | system-deps
	cp $(FONT_SRC)/$*.ttf $@

prepare: install fonts
	mkdir -p var
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_demo
	$(PY) manage.py ca init

# ruff, then the rooms' import contracts of pyproject.toml ([tool.importlinter]: layers, forbidden imports,
# nothing imports from a views module).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

check-deploy: install
	RAMIS_ENV=production SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=ramis.example \
	  PUBLIC_BASE_URL=https://ramis.example \
	  PAYMENT_BACKEND=ramis.requests.payments.AzBankGatewaysBackend BANK_MERCHANT_CODE=check-deploy \
	  $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var static/fonts/*.ttf
