# PostID: two commands for a newcomer.
#   make run    install, migrate the embedded SQLite database, seed demo data, serve on :5000
#   make test   install with test tools, run the suite on SQLite (and on PostgreSQL when
#               IDP_TEST_DATABASE_URL is set)
#   make cluster  NODES nodes behind HAProxy on PORT, on PostgreSQL and Redis (deploy/cluster)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 5000
NODES  ?= 3
POSTGRES ?= postgresql://postgres@127.0.0.1:5432/postgres
REDIS  ?= redis://127.0.0.1:6379/0

.PHONY: run cluster test install translations translations-update lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP) translations

# Compiled catalogues are build output (not in git); compiling takes milliseconds.
translations: $(STAMP)
	@$(BIN)/pybabel compile -d idp/translations -D messages > /dev/null

# After adding or changing user-facing strings: extract, merge, then translate the .po file.
translations-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k lazy_gettext --no-location \
	  --sort-output --project PostID -o idp/translations/messages.pot .
	$(BIN)/pybabel update -i idp/translations/messages.pot -d idp/translations -D messages \
	  --no-fuzzy-matching

run: install
	IDP_ENV=development $(BIN)/idp db upgrade
	@IDP_ENV=development $(BIN)/idp demo seed
	@echo "Try the demo portal: http://$(HOST):$(PORT)/demo-portal/ (or your account: http://$(HOST):$(PORT)/login)"
	@echo "Demo SMS codes and e-mail links are not sent: read them with .venv/bin/idp outbox list"
	IDP_ENV=development $(BIN)/idp serve --host $(HOST) --port $(PORT)

# Ctrl-C stops it and drops its database. Needs haproxy, PostgreSQL and Redis (docs/deployment.md).
cluster: install
	$(BIN)/python -m deploy.cluster --nodes $(NODES) --port $(PORT) --postgres $(POSTGRES) --redis $(REDIS)

test: install
	env -u IDP_TEST_DATABASE_URL IDP_ENV=test $(BIN)/python -m pytest
	@if [ -n "$$IDP_TEST_DATABASE_URL" ]; then \
	  echo "== again on the database in IDP_TEST_DATABASE_URL =="; \
	  IDP_ENV=test $(BIN)/python -m pytest; \
	fi

lint: install
	$(BIN)/ruff check idp tests migrations bench deploy
	$(BIN)/mypy idp

clean:
	rm -rf $(VENV) instance *.egg-info
