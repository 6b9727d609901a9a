"""The pipelines kith runs (imports; later the nightly sync) and the `kith` command line.

Logic lives in plain functions (`flows.importing`); the Prefect flows in `flows.import_flow` only
wire those into tasks, so that tests and a one-off CLI import can call them without Prefect.
"""
