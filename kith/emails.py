"""E-mail addresses as handles: the form used to match one person across sources."""

from __future__ import annotations

import re

# Deliberately loose: real address books hold odd but deliverable addresses. What is refused is
# what cannot be an address at all (no @, spaces inside, nothing on one side).
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(text: str | None) -> str | None:
    """Trim, drop a `mailto:` prefix and angle brackets, lower-case; None if it is not an address."""
    if not text:
        return None
    value = text.strip().strip("<>").strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    value = value.lower()
    return value if _ADDRESS.match(value) else None
