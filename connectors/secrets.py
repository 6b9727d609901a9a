"""Passwords for network sources: from an environment variable or a Prefect Secret block, named in
the configuration; never stored, logged or put in an error message."""

from __future__ import annotations

import os


def resolve_password(label: str, password_env: str | None, password_block: str | None,
                     error: type[Exception]) -> str:
    """The password for `label` (user@host). Raises `error`, naming the variable or block (never
    a value), when none is configured or set."""
    if password_env:
        value = os.environ.get(password_env)
        if not value:
            raise error(f"no password for {label}: environment variable {password_env} "
                        "is not set")
        return value
    if password_block:
        from prefect.blocks.system import Secret
        try:
            value = Secret.load(password_block).get()
        except ValueError as exc:
            raise error(f"no password for {label}: Prefect Secret block {password_block!r} "
                        "could not be loaded") from exc
        return str(value)
    raise error(f"no password configured for {label}: set password_env or password_block")
