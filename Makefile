# beraad: `make run` sets everything up and serves the app; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
# On the machine's network, so phones in the room can open the join link (`make run HOST=127.0.0.1`
# keeps it on this computer only). 8000: port 5000 is taken by AirPlay on macOS.
HOST ?= 0.0.0.0
PORT ?= 8000

.PHONY: run setup translations messages test lint bench clean

run: setup
	$(BIN)/beraad init
	$(BIN)/beraad serve --host $(HOST) --port $(PORT)

setup: $(VENV)/.installed translations

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d beraad/translations

# Extract new UI strings and merge them into the catalogues (for translators).
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o beraad/translations/messages.pot --no-location --sort-output --ignore-dirs=.venv --ignore-dirs=tests --ignore-dirs=build .
	$(BIN)/pybabel update -i beraad/translations/messages.pot -d beraad/translations --no-fuzzy-matching --no-wrap

test: setup
	@$(BIN)/python -m pytest -n auto --dist worksteal $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: that is a failure here"; exit 1; fi; \
	exit $$status

lint: setup
	$(BIN)/ruff check beraad tests bench
	$(BIN)/ruff format --check beraad tests bench

bench: setup
	$(BIN)/python bench/bank.py
	$(BIN)/python bench/votes.py
	$(BIN)/python bench/summary.py
	$(BIN)/python bench/room.py

clean:
	rm -rf $(VENV) instance *.egg-info .pytest_cache test-output
