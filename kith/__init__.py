"""kith: which of your contacts are a real network, and which are only a list.

One import package built from the project's top-level folders: `kith.connectors` (read sources),
`kith.warehouse` (DuckDB schema, loader, ledger), `kith.transforms` (SQL models and identity),
`kith.flows` (Prefect flows and the CLI). The modules directly under `kith` (`records`, `emails`,
`phones`, `names`, `profiles`, `organisations`) are the vocabulary they share: the record types
connectors yield and the loader stores, and the normalisers that connectors and identity both use.
They import nothing else of kith.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kith")
except PackageNotFoundError:          # running from a checkout that was never installed
    __version__ = "0+unknown"
