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
	rm -f $(DEMO_DB) $(DEMO_DB).wal
	$(BIN)/kith import examples/cards --tag "Chamber mixer 2026-11-20" --db $(DEMO_DB)
	$(BIN)/kith import examples/cards --tag "Chamber mixer 2026-11-20" --db $(DEMO_DB)
	$(BIN)/kith sql --db $(DEMO_DB) "select display_name, org, title, emails, phones, tags from contacts order by display_name"
	$(BIN)/kith sql --db $(DEMO_DB) "select position, reason from rejects"

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/vcard_import.py

clean:
	rm -rf $(VENV) $(DEMO_DB) $(DEMO_DB).wal .pytest_cache
