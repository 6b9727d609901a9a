# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB := demo.duckdb

.PHONY: install demo test bench clean

install: $(VENV)/.installed

# constraints.txt pins what was tested (Prefect's server needs exact fastapi / SQLAlchemy).
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

demo: install
	rm -f $(DEMO_DB) $(DEMO_DB).wal $(DEMO_DB).sync-lock
	$(BIN)/kith sync --config examples/kith.toml
	$(BIN)/kith sync --config examples/kith.toml
	$(BIN)/kith sql --db $(DEMO_DB) "select display_name, org, emails, tags from contacts order by display_name"
	$(BIN)/kith sql --db $(DEMO_DB) "select from_email, direction, is_automated, automated_reason from stg_mail__messages order by sent_at"
	$(BIN)/kith sql --db $(DEMO_DB) "select uid, start_at, n_people, owner_partstat, has_happened from stg_calendar__events order by start_at"
	$(BIN)/kith sql --db $(DEMO_DB) "select source_uri, position, reason from rejects"

test: install
	$(BIN)/python -m pytest -q

# Each prints a table with its baseline beside it (see the docstring at the top of each script).
bench: install
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[bench]'
	$(BIN)/python bench/vcard_import.py
	$(BIN)/python bench/mbox_ingest.py
	$(BIN)/python bench/imap_sync.py
	$(BIN)/python bench/ics_import.py
	$(BIN)/python bench/caldav_sync.py
	$(BIN)/python bench/linkedin_import.py
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/identity_world.py
	$(BIN)/python bench/identity_febrl.py

clean:
	rm -rf $(VENV) $(DEMO_DB) $(DEMO_DB).wal $(DEMO_DB).sync-lock .pytest_cache
