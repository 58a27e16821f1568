# Kefu — the two commands README opens with: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.8
export UV_PROJECT_ENVIRONMENT := $(VENV)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: backup restore serve load audit demo test install install-dev browser-deps ldap-build-deps ldap-deps test-sqlite test-postgres lint messages serve-dev bench clean

$(VENV)/.installed: pyproject.toml uv.lock | ldap-build-deps
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv sync --frozen --quiet
	touch $@

install: $(VENV)/.installed

# Debian's Chromium and the CJK fonts for the browser tests and screenshots.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then \
		echo "Installing Chromium and CJK fonts (Debian packages)…"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# python-ldap (django-auth-ldap, directory login) compiles against OpenLDAP's and SASL's headers.
ldap-build-deps:
	@if [ ! -f /usr/include/ldap.h ] || [ ! -f /usr/include/sasl/sasl.h ]; then \
		echo "Installing the OpenLDAP and SASL headers (Debian packages)…"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libldap2-dev libsasl2-dev >/dev/null; \
	fi

# The directory-login tests start Debian's OpenLDAP server (slapd) on loopback and fill it with ldap-utils.
ldap-deps: ldap-build-deps
	@if [ ! -x /usr/sbin/slapd ] || ! command -v ldapadd >/dev/null; then \
		echo "Installing slapd and ldap-utils (Debian packages)…"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq slapd ldap-utils >/dev/null; \
	fi

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo ""
	@echo "Kefu demo: http://127.0.0.1:8000/"
	$(PY) manage.py demo_logins
	DEBUG=True $(PY) manage.py runserver 127.0.0.1:8000

# The whole suite on SQLite, then again on PostgreSQL when DATABASE_URL names one.
test: install browser-deps ldap-deps
	env -u DATABASE_URL $(PY) -m pytest -q kefu
	@if [ -n "$$DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$DATABASE_URL) =="; \
		$(PY) -m pytest -q --create-db kefu; \
	fi

lint: install
	$(PY) -m ruff check .
	$(PY) -m mypy kefu
	env -u DATABASE_URL $(PY) manage.py makemigrations --check --dry-run

# Extract the strings, derive zh_Hans and en from zh_Hant, compile (needs GNU gettext).
# The .mo files are committed, so running Kefu needs no gettext.
messages: install
	cd kefu && ../$(PY) ../manage.py makemessages -l zh_Hant -l zh_Hans -l en --no-obsolete --add-location file --ignore 'static/vendor/*'
	$(PY) scripts/i18n_fill.py
	cd kefu && ../$(PY) ../manage.py compilemessages

# Kefu at contact-centre scale (issue 9; kefu/bench.py): import vs COPY, SLA recomputation, KPIs, page
# times, concurrent issuance on two gunicorn servers and propose_grades, each beside a same-run
# baseline, in a scratch database it makes and drops.
# Needs DATABASE_URL=postgres://…. SCALE=1 is 2,000 agents and 1,000,000 interactions; ROWS=N sets the
# interaction count alone (docs/performance.md has the figures).
SCALE ?= 1
ROWS ?=
bench: install
	@if [ -z "$$DATABASE_URL" ]; then echo "make bench needs PostgreSQL: set DATABASE_URL=postgres://…" >&2; exit 2; fi
	$(PY) -m kefu.bench --scale $(SCALE) $(if $(ROWS),--rows $(ROWS),)

# Backups (kefu/core/backup.py): pg_dump -Fc on PostgreSQL, SQLite's online backup API otherwise,
# to var/backups/kefu-<timestamp>.dump|.sqlite3. `make restore FILE=var/backups/…` replaces the database.
backup: install
	$(PY) manage.py backup

restore: install
	@if [ -z "$(FILE)" ]; then echo "usage: make restore FILE=var/backups/kefu-….dump" >&2; exit 2; fi
	$(PY) manage.py restore --yes "$(FILE)"
	$(PY) manage.py audit_verify

# Production-style run (README, docs/deployment.md): gunicorn + the task worker, against PostgreSQL.
# Behind nginx in a real deployment; BIND, WORKERS and THREADS tune it.
BIND ?= 127.0.0.1:8000
WORKERS ?= 3
THREADS ?= 4
serve: install
	@if [ -z "$$DATABASE_URL" ]; then echo "make serve needs PostgreSQL: set DATABASE_URL=postgres://…" >&2; exit 2; fi
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py db_worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/gunicorn kefu.wsgi:application --bind $(BIND) --workers $(WORKERS) --threads $(THREADS) \
		--timeout 120 --keep-alive 75 --access-logfile - --graceful-timeout 30

# Bounded load test (docs/load.md): gunicorn on loopback against PostgreSQL, locust headless,
# 50 users for 60 s over the main pages and the bulk import; fails on any error. Not part of `make test`.
LOAD_USERS ?= 50
LOAD_TIME ?= 60s
load: install
	@if [ -z "$$DATABASE_URL" ]; then echo "make load needs PostgreSQL: set DATABASE_URL=postgres://…" >&2; exit 2; fi
	$(PY) -m kefu.loadtest --users $(LOAD_USERS) --run-time $(LOAD_TIME)

# Known vulnerabilities in the locked dependencies (PyPI advisory database via pip-audit). Needs the
# network; when the advisory service cannot be reached it fails saying so (AUDIT_OFFLINE=skip: warn only).
audit: install
	@scripts/pip_audit.sh

clean:
	rm -rf $(VENV) db.sqlite3 var
