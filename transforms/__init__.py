"""SQL models over the raw tables, built as views in dependency order.

Models live in layers, `staging/` (rename, pick the current version, unnest) then `intermediate/`
(identity, interactions; later) then `marts/` (what users query). Each file is one `select`; its
file name is the view's name, and its first line says the grain ("one row per ...").
"""
