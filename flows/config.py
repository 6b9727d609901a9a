"""`kith.toml`: who the owner is, where the warehouse lives, which sources to sync, and when.

Credentials are never in this file: a network source names the environment variable
(`password_env`) or the Prefect Secret block (`password_block`) that holds its password.
An invalid file fails before anything runs, with a `ConfigError` naming the key and the problem.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kith.transforms.relationships import validate_settings

DEFAULT_CONFIG = "kith.toml"
DEFAULT_CRON = "0 3 * * *"


class ConfigError(ValueError):
    """The configuration file is missing or says something kith cannot use."""


@dataclass(frozen=True)
class OwnerConfig:
    name: str | None = None
    emails: tuple[str, ...] = ()
    phone_region: str | None = None
    timezone: str = "UTC"
    chat_names: tuple[str, ...] = ()   # names and numbers (E.164) the owner writes under in chats


@dataclass(frozen=True)
class ScheduleConfig:
    cron: str = DEFAULT_CRON
    timezone: str = "UTC"


@dataclass(frozen=True)
class SourceConfig:
    """One configured source. `settings` holds its kind's keys, already checked."""
    name: str
    kind: str                         # 'files' | 'imap' | 'caldav' | 'carddav'
    settings: dict = field(default_factory=dict)

    @property
    def is_network(self) -> bool:
        return self.kind in ("imap", "caldav", "carddav")


@dataclass(frozen=True)
class Config:
    path: Path
    db_path: Path
    owner: OwnerConfig
    schedule: ScheduleConfig
    transforms: dict
    sources: tuple[SourceConfig, ...]

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        raise ConfigError(f"{self.path}: no source named {name!r}")


# Per source kind: required keys, optional keys with their types.
_SOURCE_KEYS = {
    "files": ({"paths": list}, {"tag": str, "subjects": bool}),
    "imap": ({"host": str, "user": str},
             {"port": int, "security": str, "password_env": str, "password_block": str,
              "folders": list, "exclude": list, "subjects": bool}),
    "caldav": ({"url": str, "user": str},
               {"password_env": str, "password_block": str, "calendars": list,
                "exclude": list, "verify": (bool, str)}),
    "carddav": ({"url": str, "user": str},
                {"password_env": str, "password_block": str, "addressbooks": list,
                 "exclude": list, "verify": (bool, str)}),
}
_TOP_KEYS = {"owner", "warehouse", "schedule", "transforms", "sources"}


def config_path(path: str | os.PathLike | None = None) -> Path:
    """The config file: the argument, else `KITH_CONFIG`, else ./kith.toml."""
    return Path(path or os.environ.get("KITH_CONFIG") or DEFAULT_CONFIG).expanduser()


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read and check the configuration. Raises ConfigError naming the key and the problem."""
    path = config_path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; `kith init` writes a commented one") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    where = str(path)
    _no_unknown_keys(data, _TOP_KEYS, where)

    owner_data = _table(data, "owner", where)
    _no_unknown_keys(owner_data, {"name", "emails", "phone_region", "timezone", "names",
                                  "phones"}, f"{where}: owner")
    from kith.emails import normalize_email
    emails = []
    for i, value in enumerate(_typed(owner_data, "emails", list, f"{where}: owner") or []):
        email = normalize_email(value) if isinstance(value, str) else None
        if email is None:
            raise ConfigError(f"{where}: owner.emails[{i}]: {value!r} is not an e-mail address")
        emails.append(email)
    owner_tz = _zone(owner_data.get("timezone", "UTC"), f"{where}: owner.timezone")
    region = _typed(owner_data, "phone_region", str, f"{where}: owner")
    chat_names = []
    for i, value in enumerate(_typed(owner_data, "names", list, f"{where}: owner") or []):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: owner.names[{i}]: {value!r} is not a name")
        chat_names.append(value.strip())
    from kith.phones import normalize_phone
    for i, value in enumerate(_typed(owner_data, "phones", list, f"{where}: owner") or []):
        phone = normalize_phone(value, region) if isinstance(value, str) else None
        if phone is None:
            raise ConfigError(f"{where}: owner.phones[{i}]: {value!r} is not a phone number")
        chat_names.append(phone)
    owner = OwnerConfig(name=_typed(owner_data, "name", str, f"{where}: owner"),
                        emails=tuple(emails), phone_region=region.upper() if region else None,
                        timezone=owner_tz, chat_names=tuple(chat_names))

    warehouse = _table(data, "warehouse", where)
    _no_unknown_keys(warehouse, {"path"}, f"{where}: warehouse")
    # The warehouse: [warehouse] path, else KITH_DB, else kith.duckdb beside this file. Relative
    # paths are relative to this file, so `kith serve` and `kith sync` agree wherever started.
    db_value = (_typed(warehouse, "path", str, f"{where}: warehouse")
                or os.environ.get("KITH_DB") or "kith.duckdb")
    db_path = Path(db_value).expanduser()
    if not db_path.is_absolute():
        db_path = Path(os.path.normpath(path.parent / db_path))

    schedule_data = _table(data, "schedule", where)
    _no_unknown_keys(schedule_data, {"cron", "timezone"}, f"{where}: schedule")
    cron = _typed(schedule_data, "cron", str, f"{where}: schedule") or DEFAULT_CRON
    _check_cron(cron, f"{where}: schedule.cron")
    schedule = ScheduleConfig(cron=cron, timezone=_zone(schedule_data.get("timezone", owner_tz),
                                                         f"{where}: schedule.timezone"))

    transforms = _table(data, "transforms", where)
    try:
        transforms = validate_settings(transforms)
    except ValueError as exc:
        raise ConfigError(f"{where}: transforms.{exc}") from None

    sources = []
    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError(f"{where}: sources: write each source as a [[sources]] table")
    for i, raw in enumerate(raw_sources):
        sources.append(_source(raw, f"{where}: sources[{i}]", path.parent))
    names = [s.name for s in sources]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{where}: sources: two sources are named {name!r}")
    return Config(path=path, db_path=db_path, owner=owner, schedule=schedule,
                  transforms=transforms, sources=tuple(sources))


def _source(raw, where: str, base: Path) -> SourceConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: write each source as a [[sources]] table")
    kind = raw.get("kind")
    if kind not in _SOURCE_KEYS:
        raise ConfigError(f"{where}.kind: {kind!r} is not one of {', '.join(_SOURCE_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}.name: give each source a name")
    where = f"{where} ({name})"
    required, optional = _SOURCE_KEYS[kind]
    _no_unknown_keys(raw, {"name", "kind", *required, *optional}, where)
    settings = {}
    for key, typ in {**required, **optional}.items():
        value = _typed(raw, key, typ, where)
        if value is None and key in required:
            raise ConfigError(f"{where}.{key}: missing (a {kind} source needs "
                              f"{', '.join(required)})")
        if value is not None:
            settings[key] = value
    if kind == "files":
        settings["paths"] = [str(_under(base, p, f"{where}.paths")) for p in settings["paths"]]
    if kind in ("imap", "caldav", "carddav"):
        if ("password_env" in settings) == ("password_block" in settings):
            raise ConfigError(f"{where}: give exactly one of password_env (an environment "
                              "variable) or password_block (a Prefect Secret block); never "
                              "the password itself")
    if kind == "imap" and settings.get("security", "tls") not in ("tls", "starttls", "plain"):
        raise ConfigError(f"{where}.security: {settings['security']!r} is not one of "
                          "tls, starttls, plain")
    for key in ("folders", "exclude", "calendars", "addressbooks"):
        if key in settings and not all(isinstance(v, str) for v in settings[key]):
            raise ConfigError(f"{where}.{key}: give a list of glob patterns (strings)")
    return SourceConfig(name=name, kind=kind, settings=settings)


def _under(base: Path, value, where: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: give a list of file or folder paths")
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _table(data: dict, key: str, where: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key}: write it as a [{key}] table")
    return value


def _typed(data: dict, key: str, typ, where: str):
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        names = " or ".join(t.__name__ for t in (typ if isinstance(typ, tuple) else (typ,)))
        raise ConfigError(f"{where}.{key}: {value!r} should be a {names}")
    return value


def _no_unknown_keys(data: dict, known: set[str], where: str) -> None:
    for key in data:
        if key not in known:
            raise ConfigError(f"{where}: unknown key {key!r} (known: {', '.join(sorted(known))})")


def _zone(value, where: str) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: {value!r} is not a time zone name such as "
                          "Europe/Berlin or America/New_York") from None
    return str(value)


def _check_cron(cron: str, where: str) -> None:
    from cronsim import CronSim, CronSimError
    try:
        CronSim(cron, datetime.now())
    except CronSimError as exc:
        raise ConfigError(f"{where}: {cron!r} is not a cron expression ({exc})") from None


def next_runs(config: Config, n: int = 5, after: datetime | None = None) -> list[datetime]:
    """The next `n` times the configured cron fires after `after` (default: now), as aware
    datetimes in the schedule's time zone."""
    from cronsim import CronSim

    zone = ZoneInfo(config.schedule.timezone)
    times = CronSim(config.schedule.cron, (after or datetime.now(zone)).astimezone(zone))
    return [next(times) for _ in range(n)]


TEMPLATE = '''\
# kith configuration. `kith sync` runs every source below now; `kith serve` runs them on the
# schedule. Passwords never go in this file: name an environment variable (password_env) or a
# Prefect Secret block (password_block) instead.

[owner]
name = "Your Name"
# Your own addresses: mail from them is "sent", mail to them "received".
emails = ["you@example.com"]
# The names and numbers you write under in chat exports (kith owner --suggest finds them).
# names = ["Your Name"]
# phones = ["+1 212 555 0100"]
# Country assumed for phone numbers written without a country code.
phone_region = "US"
# Zone for calendar times written without one, and for the schedule.
timezone = "America/New_York"

[warehouse]
# Relative paths are relative to this file.
path = "kith.duckdb"

[schedule]
cron = "0 3 * * *"           # every night at 03:00
# timezone = "America/New_York"   # default: owner.timezone

# How relationships are scored and tiered (the defaults shown; see docs/tables.md).
[transforms]
half_life_days = 90              # an interaction counts half as much after this many days
active_days = 90                 # two-way contact within this many days is active
cooling_days = 365               # ...up to this many days ago is cooling; older is dormant
inner_circle_min_strength = 80   # active, at least this strong (0-100)...
inner_circle_min_months = 9      # ...and in touch in this many of the last 12 months
small_group_max_people = 8       # mail or meetings with at most this many people count
intensity_scale = 10             # decayed weight at which intensity reaches 63%
meeting_weight = 2               # a 1:1 meeting weighs this much (a 1:1 e-mail 1)
cc_weight = 0.5                  # factor when someone was only copied
chat_volume_weight = 0.5         # a day of chat weighs 1 + this x ln(messages that day)

# Files and folders: vCards, contacts CSV, mbox / .eml / Maildir, .ics.
# Unchanged files are skipped on the next sync.
[[sources]]
name = "address-book"
kind = "files"
paths = ["~/Contacts"]
# tag = "phone book"

# [[sources]]
# name = "work-mail"
# kind = "imap"
# host = "imap.example.com"
# user = "you@example.com"
# security = "tls"            # tls (993), starttls (143) or plain (loopback only)
# password_env = "KITH_WORK_MAIL_PASSWORD"
# # folders = ["INBOX", "Sent*"]      # default: all but Trash, Spam / Junk, Drafts
# # subjects = false

# [[sources]]
# name = "calendar"
# kind = "caldav"
# url = "https://caldav.example.com/"
# user = "you@example.com"
# password_block = "kith-caldav"      # a Prefect Secret block

# [[sources]]
# name = "phone-book"
# kind = "carddav"
# url = "https://carddav.example.com/"
# user = "you@example.com"
# password_env = "KITH_CARDDAV_PASSWORD"
'''
