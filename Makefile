# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := demo-world

.PHONY: install demo test bench clean

install: $(VENV)/.installed

# constraints.txt pins what was tested (Prefect's server needs exact fastapi / SQLAlchemy).
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

demo: install
	rm -rf $(DEMO_DIR)
	$(BIN)/python examples/world.py $(DEMO_DIR)
	$(BIN)/kith sync --config $(DEMO_DIR)/kith.toml
	$(BIN)/kith status --db $(DEMO_DIR)/world.duckdb
	$(BIN)/kith people --tier cooling --limit 10 --db $(DEMO_DIR)/world.duckdb
	$(BIN)/kith sql --db $(DEMO_DIR)/world.duckdb "select display_name, tier, strength, \
		last_channel, n_chat_days, n_emails from network where n_chat_days > 0 \
		order by strength desc"
	$(BIN)/kith report --db $(DEMO_DIR)/world.duckdb

# One worker per core (at most 4), each test file on one worker so that a module's fixtures
# (a generated world, a warehouse built in two steps) are built once.
test: install
	$(BIN)/python -m pytest -q -rs -n auto --maxprocesses 4 --dist loadfile

# Each prints a table with its baseline beside it (see the docstring at the top of each script).
bench: install
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[bench]'
	$(BIN)/python bench/vcard_import.py
	$(BIN)/python bench/mbox_ingest.py
	$(BIN)/python bench/imap_sync.py
	$(BIN)/python bench/ics_import.py
	$(BIN)/python bench/caldav_sync.py
	$(BIN)/python bench/carddav_unservable.py
	$(BIN)/python bench/linkedin_import.py
	$(BIN)/python bench/whatsapp_import.py
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/identity_world.py
	$(BIN)/python bench/relationships_world.py
	$(BIN)/python bench/introductions_world.py
	$(BIN)/python bench/rebuild.py
	$(BIN)/python bench/identity_febrl.py
	$(BIN)/python bench/fuzz.py --minutes 10
	$(BIN)/python bench/card_photos.py
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
