"""Mapping a synced demo world's records to its hidden truth (examples/world.py's truth.json),
for the benchmarks that score kith against it. kith itself never reads truth.json."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

import duckdb  # noqa: E402

import world  # noqa: E402
from kith.profiles import normalize_profile_url  # noqa: E402
from kith.transforms.identity.resolve import fold_email  # noqa: E402


def synced_world(workdir: Path, seed: int = 7, *, chats: bool = True,
                 checkout: Path = ROOT, today: date | None = None) -> Path:
    """Generate the world into workdir, `kith sync` it, return the warehouse path. Without
    `chats`, the chat exports are left out of the sync (into a warehouse of its own). With
    another `checkout` (a kith source tree with its own .venv, e.g. main's), that checkout's
    kith syncs the same files into a warehouse of its own, for a baseline in the same run.
    The world is generated relative to `today` (default: the real date)."""
    if not (workdir / "truth.json").exists():
        world.generate(workdir, seed=seed, today=today)
    config = workdir / "kith.toml"
    db = "world.duckdb" if chats else "world-no-chats.duckdb"
    if checkout != ROOT:
        db = db.replace(".duckdb", "-baseline.duckdb")
    if not chats or checkout != ROOT:
        blocks = config.read_text(encoding="utf-8").split("[[sources]]")
        kept = [b for b in blocks
                if chats or ('"whatsapp"' not in b and '"telegram"' not in b)]
        config = workdir / db.replace(".duckdb", ".toml")
        config.write_text("[[sources]]".join(kept).replace('"world.duckdb"', f'"{db}"'),
                          encoding="utf-8")
    subprocess.run([str(checkout / ".venv" / "bin" / "kith"), "sync", "--config", str(config)],
                   check=True, capture_output=True)
    return workdir / db


def load_truth(workdir: Path) -> dict[str, dict]:
    people = json.loads((workdir / "truth.json").read_text(encoding="utf-8"))
    return {p["truth_id"]: p for p in people}


def record_truth(con: duckdb.DuckDBPyConnection, truth: dict[str, dict]) -> dict[str, str]:
    """record_key -> truth_id, by vCard UID, e-mail, LinkedIn profile URL or phone (in that
    order); records no identifier maps are left out."""
    by_id: dict[str, str] = {}
    for p in truth.values():
        for e in p["emails"]:
            by_id[f"email:{fold_email(e)}"] = p["truth_id"]
        for ph in p["phones"]:
            by_id[f"phone:{ph}"] = p["truth_id"]
        if p["linkedin_url"]:
            by_id[f"profile:{normalize_profile_url(p['linkedin_url'])}"] = p["truth_id"]
        for uid in p["card_uids"]:
            by_id[f"uid:{uid}"] = p["truth_id"]
    rows = con.execute("select record_key, emails, phones, profiles "
                       "from int_identity_records").fetchall()
    out = {}
    for key, emails, phones, profiles in rows:
        candidates = [f"uid:{key[9:]}"] if key.startswith("card:uid:") else []
        candidates += [f"email:{fold_email(e)}" for e in emails]
        candidates += [f"profile:{normalize_profile_url(u) or u}" for u in profiles]
        candidates += [f"phone:{p}" for p in phones]
        found = next((by_id[c] for c in candidates if c in by_id), None)
        if found is not None:
            out[key] = found
    return out
