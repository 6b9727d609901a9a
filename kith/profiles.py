"""Social profile URLs as handles: the form used to match one person across sources.

`https://de.linkedin.com/in/J%C3%BCrgen-M/?trk=x` and `linkedin.com/in/jürgen-m` are the same
profile; both normalise to `https://linkedin.com/in/jürgen-m`. Twitter and X are one service
(`https://x.com/<handle>`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qs, unquote, urlsplit

# host (after www./mobile./country prefixes are removed) -> (service, canonical host)
_SERVICES = {
    "linkedin.com": ("linkedin", "linkedin.com"),
    "twitter.com": ("twitter", "x.com"),
    "x.com": ("twitter", "x.com"),
    "github.com": ("github", "github.com"),
    "facebook.com": ("facebook", "facebook.com"),
    "fb.com": ("facebook", "facebook.com"),
    "instagram.com": ("instagram", "instagram.com"),
}
_SCHEMELESS = re.compile(r"(?i)^(?:[a-z0-9-]+\.)*(?:linkedin|twitter|x|github|facebook|fb|instagram)"
                         r"\.com(?:/|$)")
_HOST = re.compile(r"^[a-z0-9.-]+\.[a-z]{2,}$")


def _split(url: str):
    text = url.strip()
    if not text or any(ch.isspace() for ch in text):
        return None
    if "://" not in text:
        if text.startswith("//"):
            text = "https:" + text
        elif _SCHEMELESS.match(text) or text.lower().startswith("www."):
            text = "https://" + text
        else:
            return None
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not _HOST.match(host):
        return None
    return parts, host


def _service_host(host: str) -> tuple[str | None, str]:
    """(service, canonical host) for a lower-case host; subdomains of a known service dropped."""
    for domain, (service, canonical) in _SERVICES.items():
        if host == domain or host.endswith("." + domain):
            return service, canonical
    return None, host.removeprefix("www.").removeprefix("mobile.").removeprefix("m.")


@lru_cache(maxsize=100_000)
def profile_service(url: str | None) -> str | None:
    """'linkedin' | 'twitter' | 'github' | 'facebook' | 'instagram' for a profile URL, else None."""
    split = _split(url or "")
    return _service_host(split[1])[0] if split else None


def normalize_profile_url(url: str | None) -> str | None:
    """The profile URL in one form: https, canonical host, no query / fragment / trailing slash.

    For the known services the path is cut to the profile itself and lower-cased (their handles
    are case-insensitive); a LinkedIn `/in/<slug>` is percent-decoded first. Facebook's
    `profile.php?id=N` keeps its id, the only thing that names that profile. Other hosts keep
    their path as written. None when the text is not an http(s) URL.
    """
    split = _split(url or "")
    if split is None:
        return None
    parts, host = split
    service, host = _service_host(host)
    segments = [s for s in parts.path.split("/") if s]
    if service == "twitter" and not segments and parts.fragment.startswith("!/"):
        segments = [s for s in parts.fragment[2:].split("/") if s]      # twitter.com/#!/handle
    if service == "linkedin":
        if len(segments) >= 2 and segments[0].lower() in ("in", "company", "school", "showcase"):
            return f"https://{host}/{segments[0].lower()}/{unquote(segments[1]).lower()}"
        path = unquote("/".join(segments)).lower()          # /pub/name/1/23/456 and the like
    elif service == "facebook" and segments[:1] == ["profile.php"]:
        ids = parse_qs(parts.query).get("id")
        return f"https://{host}/profile.php?id={ids[0]}" if ids else None
    elif service is not None:
        path = segments[0].lower().lstrip("@") if segments else ""
    else:
        path = "/".join(segments)
    return f"https://{host}/{path}" if path else f"https://{host}"
