"""Fuzzing each connector with mutated copies of real files: reading never raises, and every
record the input holds is yielded or rejected with a reason (tests/fuzz/properties.py).

The seeds are the shared corpus and the project's fixtures; the mutations (tests/fuzz/mutations.py)
are what happens to files in the wild: cut short, a line dropped, doubled or swapped, bytes
flipped, NULs and control characters, mixed line endings, END lines removed, re-encoded, a 2 MB
line. A short run here (KITH_FUZZ_EXAMPLES per connector, about a minute for all of them, the
same examples on every CI run); the long run, with fresh examples, is `bench/fuzz.py`.
"""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz import properties
from tests.fuzz.mutations import MUTATIONS, Mutation, mutate, random_mutation, seeds

EXAMPLES = int(os.environ.get("KITH_FUZZ_EXAMPLES", "120"))

FUZZ = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                derandomize=os.environ.get("CI") == "true",
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

_ARGS = {"f": st.floats(0, 1, exclude_max=True), "b": st.integers(0, 255),
         "n": st.integers(1, 8), "w": st.integers(0, 2 ** 32 - 1)}


def _mutation(name: str) -> st.SearchStrategy[Mutation]:
    function, kinds = MUTATIONS[name]
    return st.tuples(*(_ARGS[k] for k in kinds)).map(lambda args: Mutation(name, function, args))


mutations = st.lists(st.sampled_from(sorted(MUTATIONS)).flatmap(_mutation), min_size=1,
                     max_size=3)

VCARD_SEEDS = seeds("vcard")
ICS_SEEDS = seeds("ics")
CSV_SEEDS = seeds("contacts_csv")
LINKEDIN_SEEDS = seeds("linkedin")
MAIL_SEEDS = seeds("mail")


@FUZZ
@given(seed=st.sampled_from(VCARD_SEEDS), changes=mutations)
def test_vcard_reader_never_raises_and_accounts_for_every_card(tmp_path_factory, seed, changes):
    properties.vcard(mutate(seed.read_bytes(), changes), tmp_path_factory.mktemp("vcf"))


@FUZZ
@given(seed=st.sampled_from(ICS_SEEDS), changes=mutations)
def test_ics_reader_never_raises_and_accounts_for_every_event(tmp_path_factory, seed, changes):
    properties.ics(mutate(seed.read_bytes(), changes), tmp_path_factory.mktemp("ics"))


@FUZZ
@given(seed=st.sampled_from(CSV_SEEDS), changes=mutations)
def test_contacts_csv_reader_never_raises_and_accounts_for_every_row(tmp_path_factory, seed,
                                                                     changes):
    properties.contacts_csv(mutate(seed.read_bytes(), changes), tmp_path_factory.mktemp("csv"))


@FUZZ
@given(seed=st.sampled_from(LINKEDIN_SEEDS), changes=mutations)
def test_linkedin_reader_never_raises_and_accounts_for_every_row(tmp_path_factory, seed, changes):
    properties.linkedin(mutate(seed.read_bytes(), changes), tmp_path_factory.mktemp("linkedin"))


@FUZZ
@given(seed=st.sampled_from(MAIL_SEEDS), changes=mutations)
def test_mail_reader_never_raises_and_accounts_for_every_message(tmp_path_factory, seed, changes):
    properties.mail(mutate(seed.read_bytes(), changes), tmp_path_factory.mktemp("mail"),
                    seed.suffix)


@FUZZ
@given(changes=mutations)
def test_maildir_reader_never_raises_and_accounts_for_every_message(tmp_path_factory, changes):
    seed = properties.maildir_seed()
    properties.maildir(mutate(seed.read_bytes(), changes), tmp_path_factory.mktemp("maildir"))


def test_every_connector_has_seeds():
    assert all((VCARD_SEEDS, ICS_SEEDS, CSV_SEEDS, LINKEDIN_SEEDS, MAIL_SEEDS))


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_mutation_changes_a_file(name):
    data = (properties.MAILDIR.parents[1] / "vcard" / "google-3.0.vcf").read_bytes()
    rng = random.Random(7)
    assert any(random_mutation(rng, name)(data) != data for _ in range(5))
