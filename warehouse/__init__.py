"""The DuckDB warehouse: one file holding raw source tables, the load ledger, rejects and the views
the transforms build on top.

A *load* is one pass over one source (one file, later one mailbox folder): it is one transaction, is
recorded in the `loads` ledger with its counts, and writes a `rejects` row for every record it could
not read.
"""
