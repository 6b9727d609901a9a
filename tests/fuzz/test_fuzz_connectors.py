"""Fuzzing each connector with mutated copies of real files: reading never raises, and every
record the input holds is yielded or rejected with a reason.

The seeds are the shared corpus and the project's fixtures; the mutations (tests/fuzz/mutations.py)
are what happens to files in the wild: cut short, a line dropped, doubled or swapped, bytes
flipped, NULs and control characters, mixed line endings, END lines removed, re-encoded, a 2 MB
line. A short run here (KITH_FUZZ_EXAMPLES per connector, about a minute for all of them); the
long run is `bench/fuzz.py`.
"""

from __future__ import annotations

import codecs
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kith.connectors.contacts_csv import UnmappableCsv, read_contacts_csv
from kith.connectors.ics import read_ics
from kith.connectors.linkedin import read_linkedin
from kith.connectors.mail import read_mail
from kith.connectors.vcard import read_vcards
from kith.records import ContactCard, EventOccurrence, MailMessage, Rejected, SocialInvitation, \
    SocialMessage
from tests.fuzz.mutations import MUTATIONS, Mutation, mutate, seeds

EXAMPLES = int(os.environ.get("KITH_FUZZ_EXAMPLES", "60"))
WINDOW_END = datetime(2027, 1, 1, tzinfo=timezone.utc)

FUZZ = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

_ARGS = {"f": st.floats(0, 1, exclude_max=True), "b": st.integers(0, 255),
         "n": st.integers(1, 8), "w": st.integers(0, 2 ** 32 - 1)}


def _mutation(name: str) -> st.SearchStrategy[Mutation]:
    function, kinds = MUTATIONS[name]
    return st.tuples(*(_ARGS[k] for k in kinds)).map(lambda args: Mutation(name, function, args))


mutations = st.lists(st.sampled_from(sorted(MUTATIONS)).flatmap(_mutation), min_size=1,
                     max_size=3)


# ---------------------------------------------------------------------------------------------
# What each input holds, counted independently of the connector

def decoded(data: bytes) -> str:
    """The text as a reader would see it (UTF-16/32 by their BOM, else UTF-8 with replacement)."""
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(encoding, "replace")
    return data.decode("utf-8", "replace").lstrip("\ufeff")


def top_level_vcard_begins(data: bytes) -> int:
    count = depth = 0
    for line in re.split(r"\r\n|\r|\n", decoded(data)):
        marker = line.strip().upper()
        if marker == "BEGIN:VCARD":
            count += depth == 0
            depth += 1
        elif marker == "END:VCARD" and depth:
            depth -= 1
    return count


def is_blank(data: bytes) -> bool:
    return not decoded(data).strip(" \t\r\n\0\ufeff")


def check_records(records: list, types: tuple) -> None:
    for r in records:
        assert isinstance(r, types) or (isinstance(r, Rejected) and r.reason), r


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------------
# The properties, one test per connector

VCARD_SEEDS = seeds("vcard")
ICS_SEEDS = seeds("ics")
CSV_SEEDS = seeds("contacts_csv")
LINKEDIN_SEEDS = seeds("linkedin")
MAIL_SEEDS = seeds("mail")


@FUZZ
@given(seed=st.sampled_from(VCARD_SEEDS), changes=mutations)
def test_vcard_reader_never_raises_and_accounts_for_every_card(tmp_path_factory, seed, changes):
    data = mutate(seed.read_bytes(), changes)
    path = write(tmp_path_factory.mktemp("vcf"), "cards.vcf", data)
    records = list(read_vcards(path, default_region="US"))
    check_records(records, (ContactCard,))
    # Each BEGIN:VCARD at the top level is one card or one reject; junk between cards may add
    # more rejects, never fewer records.
    assert len(records) >= top_level_vcard_begins(data)
    assert records or is_blank(data)


@FUZZ
@given(seed=st.sampled_from(ICS_SEEDS), changes=mutations)
def test_ics_reader_never_raises_and_accounts_for_every_event(tmp_path_factory, seed, changes):
    data = mutate(seed.read_bytes(), changes)
    path = write(tmp_path_factory.mktemp("ics"), "calendar.ics", data)
    records = list(read_ics(path, window_end=WINDOW_END))
    check_records(records, (EventOccurrence,))
    positions = {r.position for r in records}
    uids = {r.uid for r in records if isinstance(r, EventOccurrence)}
    lines = re.split(r"\r*\n|\r+", decoded(data))      # LF, CRLF, CR and CR CR LF all end a line
    for i, line in enumerate(lines, 1):
        if line.strip().upper() == "BEGIN:VEVENT" and i not in positions:
            # A recurring event is accounted for by its occurrences, which carry the line of
            # the VEVENT they come from (the master's, for the instances it generates).
            block = "\n".join(lines[i:i + 400]).split("END:VEVENT")[0]
            uid = re.search(r"(?m)^UID:(.*)$", block)
            assert uid and uid.group(1).strip() in uids, f"VEVENT at line {i} not accounted for"


@FUZZ
@given(seed=st.sampled_from(CSV_SEEDS), changes=mutations)
def test_contacts_csv_reader_never_raises_and_accounts_for_every_row(tmp_path_factory, seed,
                                                                     changes):
    data = mutate(seed.read_bytes(), changes)
    path = write(tmp_path_factory.mktemp("csv"), "contacts.csv", data)
    try:
        records = list(read_contacts_csv(path, "US"))
    except UnmappableCsv as refused:      # the whole file refused, with one sentence: allowed
        assert "contacts.csv" in str(refused)
        return
    check_records(records, (ContactCard,))


@FUZZ
@given(seed=st.sampled_from(LINKEDIN_SEEDS), changes=mutations)
def test_linkedin_reader_never_raises_and_accounts_for_every_row(tmp_path_factory, seed, changes):
    data = mutate(seed.read_bytes(), changes)
    path = write(tmp_path_factory.mktemp("linkedin"), "Connections.csv", data)
    records = list(read_linkedin(path))
    check_records(records, (ContactCard, SocialMessage, SocialInvitation))
    assert records or is_blank(data)


@FUZZ
@given(seed=st.sampled_from(MAIL_SEEDS), changes=mutations)
def test_mail_reader_never_raises_and_accounts_for_every_message(tmp_path_factory, seed, changes):
    data = mutate(seed.read_bytes(), changes)
    path = write(tmp_path_factory.mktemp("mail"), "mail" + seed.suffix, data)
    records = list(read_mail(path))
    check_records(records, (MailMessage,))
    if seed.suffix == ".eml" and not is_blank(data):
        assert len(records) == 1                    # one message, or one reject saying why
    assert records or not data.strip(b"\r\n\t \0")


@FUZZ
@given(changes=mutations)
def test_maildir_reader_never_raises_and_accounts_for_every_message(tmp_path_factory, changes):
    """One message of a Maildir mutated; the folder still yields one record per file."""
    import shutil
    folder = tmp_path_factory.mktemp("maildir") / "Maildir"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "mail" / "maildir", folder)
    files = sorted(p for sub in ("cur", "new") for p in (folder / sub).rglob("*") if p.is_file())
    files[0].write_bytes(mutate(files[0].read_bytes(), changes))
    records = list(read_mail(folder))
    check_records(records, (MailMessage,))
    every = [p for p in folder.rglob("*") if p.is_file() and p.parent.name in ("cur", "new")]
    assert len(records) >= len([p for p in every if p.read_bytes().strip(b"\r\n\t \0")])


def test_every_connector_has_seeds():
    assert all((VCARD_SEEDS, ICS_SEEDS, CSV_SEEDS, LINKEDIN_SEEDS, MAIL_SEEDS))


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_mutation_changes_a_file(name):
    import random
    from tests.fuzz.mutations import random_mutation
    data = (Path(__file__).resolve().parents[1] / "fixtures" / "vcard" / "google-3.0.vcf"
            ).read_bytes()
    rng = random.Random(7)
    assert any(random_mutation(rng, name)(data) != data for _ in range(5))
