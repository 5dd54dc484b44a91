# kanri — the two set-up commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi:app

.PHONY: run test install install-test migrate demo demo-reset serve lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/flask db upgrade

demo: migrate
	$(BIN)/flask demo

## make demo-reset: new passwords for the demo logins, printed again (instance/ is kept)
demo-reset: migrate
	$(BIN)/flask demo --reset-passwords

serve: install
	@echo "ログイン画面: http://127.0.0.1:5000/login   止めるには Ctrl+C"
	@echo "送信したメール（認証コード・仮パスワード）: http://127.0.0.1:5000/_dev/mail"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

## make run: install, migrate the embedded SQLite database, seed the demo, serve on :5000
run: demo serve

## make test: install the test extras and run the whole suite
test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .

## make bench: kanri and a bare Flask app under gunicorn, driven by wrk (a few minutes; never part of make test)
## full run: make bench BENCH_ARGS="--sizes 1000,10000,100000"; PostgreSQL: DATABASE_URL=postgresql+psycopg://… make bench
bench: install-test
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
