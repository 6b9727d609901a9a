"""The resolver on hand-made records: one behaviour per test."""

import pytest

from kith.transforms.identity.names import given_level, parse_name
from kith.organisations import org_matches_domain, same_org
from kith.transforms.identity.model import Model, ScoredPair, settings
from kith.transforms.identity.resolve import (IdentityRecord as R, NameStats, Rules, _Prepared,
                                              decide, fold_email, is_role_address, resolve)


def together(result, *keys):
    cluster = next(c for c in result.clusters if keys[0] in c)
    return all(k in cluster for k in keys)


def test_gmail_dots_and_tags_are_folded_only_for_gmail():
    assert fold_email("J.Doe+news@googlemail.com") == "jdoe@gmail.com"
    assert fold_email("j.doe+news@acme.example") == "j.doe+news@acme.example"


def test_role_addresses_are_recognised():
    assert is_role_address("info@acme.example")
    assert is_role_address("no-reply@bank.example")
    assert not is_role_address("jane.doe@acme.example")


def test_nicknames_initials_diacritics_and_typos():
    assert given_level("bob", "robert") == "nickname"
    assert given_level("liz", "elizabeth") == "nickname"
    assert given_level("j", "jane") == "initial"
    assert given_level("dragomir", "dragomit") == "typo"
    assert given_level("john", "mary") is None
    assert parse_name(None, None, "José Müller").given == "jose"
    assert parse_name(None, None, "Doe, Jane").family == "doe"


def test_organisations_match_across_legal_forms_and_mail_domains():
    assert same_org("Acme Corp.", "ACME Inc")
    assert not same_org("Acme", "Globex")
    assert org_matches_domain("Acme Corp", "acme.com")
    assert org_matches_domain("Northwind Logistics GmbH", "northwind.example")
    assert not org_matches_domain("Acme", "gmail.com")


def test_records_sharing_an_email_are_one_person():
    result = resolve([R("a", "s1", full_name="Jane Doe", emails=("jane@acme.example",)),
                      R("b", "s2", full_name="J. Doe", emails=("jane@acme.example",))])
    assert together(result, "a", "b")
    assert result.links[0].rule == "same_email"


def test_gmail_variants_link():
    result = resolve([R("a", "s1", full_name="Jane Doe", emails=("j.doe+x@gmail.com",)),
                      R("b", "s2", full_name="Jane Doe", emails=("jdoe@gmail.com",))])
    assert together(result, "a", "b")


def test_role_address_does_not_link_two_people():
    result = resolve([R("a", "s", full_name="Ann Lee", emails=("info@acme.example",)),
                      R("b", "s", full_name="Tom Ray", emails=("info@acme.example",))])
    assert not together(result, "a", "b")
    assert result.excluded[0].reason == "a role or shared address, not one person"


def test_shared_family_phone_is_excluded():
    result = resolve([R("a", "phone", full_name="John Smith", phones=("+15550001111",)),
                      R("b", "phone", full_name="Mary Smith", phones=("+15550001111",))])
    assert not together(result, "a", "b")
    assert result.excluded[0].reason.startswith("seen with different people")


def test_maiden_name_does_not_stop_a_shared_email():
    result = resolve([R("a", "s1", full_name="Jane Doe", emails=("jane@acme.example",)),
                      R("b", "s2", full_name="Jane Smith", emails=("jane@acme.example",))])
    assert together(result, "a", "b")


def test_name_and_organisation_link_a_linkedin_connection_to_a_card():
    result = resolve([
        R("li", "linkedin", given_name="Robert", family_name="Okafor", org="Northwind Inc",
          platform="linkedin"),
        R("card", "mixer", full_name="Bob Okafor", org="Northwind",
          emails=("bob@northwind.example",))])
    assert together(result, "li", "card")
    assert "nickname" in result.links[0].evidence


def test_mail_display_name_whose_address_fits_the_name_links():
    result = resolve([
        R("card", "mixer", full_name="Jane Doe", org="Acme", emails=("jane.doe@acme.example",)),
        R("email:jdoe@gmail.com", "email", full_name="Jane Doe", emails=("jdoe@gmail.com",),
          names_reliable=False)])
    assert together(result, "card", "email:jdoe@gmail.com")


def test_a_matching_common_name_alone_does_not_link():
    result = resolve([R("a", "s1", full_name="John Miller", org="US Navy"),
                      R("b", "s2", full_name="John Miller")])
    assert not together(result, "a", "b")


def test_name_and_a_weaker_clue_make_a_candidate():
    result = resolve([R("a", "s1", full_name="Mary Miller", title="Admiral"),
                      R("b", "s2", full_name="Mary Miller", title="Admiral")])
    assert not together(result, "a", "b")
    assert [(c.a, c.b) for c in result.candidates] == [("a", "b")]


def test_same_common_name_at_different_companies_stays_apart():
    result = resolve([R("a", "linkedin", full_name="John Smith", org="Acme"),
                      R("b", "linkedin", full_name="John Smith", org="Globex"),
                      R("c", "mixer", full_name="John Smith", emails=("john@initech.example",))])
    assert len(result.clusters) == 3
    assert result.candidates == []


def test_conflicting_birthdays_keep_people_apart():
    result = resolve([R("a", "s1", full_name="Jane Doe", org="Acme", birthday="1980-02-03"),
                      R("b", "s2", full_name="Jane Doe", org="Acme", birthday="1975-11-30")])
    assert not together(result, "a", "b")


def test_owner_records_are_one_person_and_never_link_others():
    result = resolve([
        R("email:me@home.example", "email", full_name="Alex Morgan",
          emails=("me@home.example",), names_reliable=False),
        R("email:alex@work.example", "email", full_name="Alex Morgan",
          emails=("alex@work.example",), names_reliable=False),
        R("card:assistant", "book", full_name="Sam Lee", emails=("me@home.example",))],
        owner_emails=frozenset({"me@home.example", "alex@work.example"}))
    assert together(result, "email:me@home.example", "email:alex@work.example")
    assert result.owner_keys == {"email:me@home.example", "email:alex@work.example"}
    assert not together(result, "card:assistant", "email:me@home.example")


def test_user_merge_and_split_rules_win():
    records = [R("a", "s1", full_name="Jane Doe", emails=("jane@acme.example",)),
               R("b", "s2", full_name="Jane Doe", emails=("jane@acme.example",)),
               R("c", "s3", full_name="J D")]
    result = resolve(records, rules=Rules(merges=(("a", "c"),), splits=(("a", "b"),)))
    assert together(result, "a", "c")
    assert not together(result, "a", "b")
    assert result.refused[0].rule == "same_email"


def test_a_cluster_stops_growing_at_the_cap():
    records = [R(f"r{i}", f"s{i}", emails=("shared@acme.example",)) for i in range(10)]
    result = resolve(records, max_cluster=4)
    assert max(len(c) for c in result.clusters) == 4
    assert len(result.refused) == 6


def test_bad_input_does_not_crash_or_merge():
    records = [R("empty", "s"),
               R("long1", "s", full_name="A B", emails=("x" * 10_000 + "@acme.example",)),
               R("long2", "s", full_name="C D", emails=("x" * 10_000 + "@acme.example",)),
               R("phone-as-email", "s", full_name="E F", emails=("+1 555 0100",)),
               R("at-name", "s", full_name="someone@acme.example")]
    records += [R(f"smith{i}", "big", full_name="John Smith") for i in range(2_000)]
    result = resolve(records)
    assert len(result.clusters) == len(records)
    assert result.excluded[0].reason == "too long to be an identifier"
    assert result.n_skipped_blocks >= 1


def test_an_uncommon_name_no_source_holds_twice_links_across_sources():
    result = resolve([R("a", "linkedin", full_name="Chidi Okonkwo", org="Acme"),
                      R("b", "phone", full_name="Chidi Okonkwo", phones=("+15550100",))])
    assert together(result, "a", "b")
    assert "full name exact" in result.links[0].evidence


def test_a_name_one_source_holds_twice_does_not_link_by_name():
    result = resolve([R("a", "linkedin", full_name="Chidi Okonkwo", org="Acme"),
                      R("b", "linkedin", full_name="Chidi Okonkwo", org="Globex"),
                      R("c", "phone", full_name="Chidi Okonkwo", phones=("+15550100",))])
    assert len(result.clusters) == 3


def test_a_record_fitting_two_people_of_one_list_links_to_the_one_far_likelier():
    # Two LinkedIn connections of one name; the address agrees with one's employer only.
    result = resolve([R("li1", "linkedin", full_name="Chidi Okonkwo", org="Acme Robotics"),
                      R("li2", "linkedin", full_name="Chidi Okonkwo", org="Globex"),
                      R("mail", "email", full_name="Chidi Okonkwo",
                        emails=("chidi.okonkwo@acmerobotics.example",), names_reliable=False)])
    assert together(result, "li1", "mail")
    assert not together(result, "li2", "mail")


def test_a_family_name_change_with_the_same_birthday_links():
    result = resolve([R("a", "s1", full_name="Jane Doe", birthday="1984-06-02",
                        locality="Springfield"),
                      R("b", "s2", full_name="Jane Smith", birthday="1984-06-02",
                        locality="Springfield")])
    assert together(result, "a", "b")
    assert "family name changed" in result.links[0].evidence


def test_twins_share_a_birthday_and_address_but_not_a_first_name():
    result = resolve([R("a", "s1", full_name="Tom Lee", birthday="2001-03-04",
                        street="1 Main St", postcode="12345", locality="Springfield"),
                      R("b", "s2", full_name="Sam Lee", birthday="2001-03-04",
                        street="1 Main St", postcode="12345", locality="Springfield")])
    assert not together(result, "a", "b")


def test_a_name_too_common_to_block_on_is_still_compared_within_one_employer():
    # 150 John Smiths, each at another employer: every name block holds more than MAX_BLOCK
    # records, so it is split by employer instead of dropped.
    orgs = [f"{chr(97 + i % 26)}{chr(97 + i // 26)}corp" for i in range(150)]
    records = [R(f"li{i}", "linkedin", full_name="John Smith", org=org)
               for i, org in enumerate(orgs)]
    records.append(R("card", "cards", full_name="John Smith", org=orgs[7],
                     emails=(f"john.smith@{orgs[7]}.example",)))
    result = resolve(records)
    assert together(result, "card", "li7")
    assert sum(together(result, "card", f"li{i}") for i in range(150)) == 1


def test_an_address_seen_with_the_full_first_name_links_on_it():
    result = resolve([
        R("li", "linkedin", full_name="Vincent Suzuki", org="Alder Group"),
        R("mail", "email", full_name="Vince Suzuki", emails=("vince.suzuki@harborlight.example",),
          names_seen=("Vince Suzuki", "Vincent Suzuki"), names_reliable=False)])
    assert together(result, "li", "mail")
    assert "full name exact" in result.links[0].evidence


def test_an_address_that_spells_the_full_first_name_links_on_it():
    result = resolve([
        R("li", "linkedin", full_name="Alexander Turner", org="Harborlight Analytics"),
        R("mail", "email", full_name="Sasha Turner", emails=("alexander.turner@harborlight.example",),
          names_seen=("Sasha Turner",), names_reliable=False)])
    assert together(result, "li", "mail")


def test_a_linkedin_profile_address_spells_the_name_the_profile_was_opened_with():
    card = R("card", "cards", full_name="Eleanor Russo", phones=("+19195550194",))
    result = resolve([R("li", "linkedin", full_name="Ellie Russo",
                        profiles=("https://www.linkedin.com/in/eleanor-russo-1bcdc5b",)), card])
    assert together(result, "li", "card")
    assert "full name exact" in result.links[0].evidence
    # a handle its holder chose spells nothing for certain
    result = resolve([R("li", "linkedin", full_name="Ellie Russo",
                        profiles=("https://www.linkedin.com/in/eleanor-r",)), card])
    assert "full name exact" not in result.candidates[0].evidence


def test_a_nameless_address_without_separators_spells_a_known_name():
    result = resolve([
        R("li", "linkedin", full_name="Aaliyah Pierce", org="Goldfinch Studio"),
        R("mail", "email", emails=("aaliyahpierce@goldfinch.example",), names_reliable=False)])
    assert together(result, "li", "mail")


def test_a_nameless_address_of_the_family_name_and_an_initial_spells_the_name():
    result = resolve([
        R("li", "linkedin", full_name="Nathaniel Vargas", org="Boxwood Health"),
        R("mail", "email", emails=("vargasn@boxwoodhealth.example",), names_reliable=False)])
    found = [link.evidence for link in result.links + result.candidates
             if {link.a, link.b} == {"li", "mail"}]
    assert "an initial for the given name" in found[0]


def test_names_written_the_other_way_round_with_a_hyphen_are_compatible():
    from kith.transforms.identity.names import compatible
    assert compatible(parse_name("whitbe", "alexa-rose", None), parse_name("alexa-ose", "white", None))
    assert not compatible(parse_name("amber", "frah", None), parse_name("laurex", "frahn", None))


def test_a_name_a_letter_or_two_longer_is_not_a_short_form():
    assert given_level("dan", "daniel") == "nickname"
    assert given_level("daniel", "daniela") != "nickname"
    assert given_level("victor", "victoria") != "nickname"


def test_two_numbered_mailboxes_of_one_name_are_two_people_and_a_card_fitting_both_fits_neither():
    result = resolve([
        R("card", "cards", full_name="Carlos Rodriguez", org="Harborlight Analytics"),
        R("mail1", "email", full_name="Carlos Rodriguez",
          emails=("carlos.rodriguez@harborlight.example",), names_reliable=False),
        R("mail2", "email", full_name="Carlos Rodriguez",
          emails=("carlos.rodriguez2@harborlight.example",), names_reliable=False)])
    assert len(result.clusters) == 3
    evidence = {(c.a, c.b): c.evidence for c in result.candidates}
    assert "different addresses on one work mail domain" in evidence[("mail1", "mail2")]
    assert evidence[("mail1", "mail2")].endswith(
        "; two numbered mailboxes of one name at one employer")
    assert evidence[("card", "mail1")].endswith("; fits several people of one work mail domain")


def test_a_card_with_one_of_two_numbered_mailboxes_does_not_chain_to_the_other():
    result = resolve([
        R("card", "cards", full_name="Carlos Rodriguez", org="Harborlight Analytics",
          emails=("carlos.rodriguez@harborlight.example",)),
        R("mail1", "email", full_name="Carlos Rodriguez",
          emails=("carlos.rodriguez@harborlight.example",), names_reliable=False),
        R("mail2", "email", full_name="Carlos Rodriguez",
          emails=("carlos.rodriguez2@harborlight.example",), names_reliable=False)])
    assert together(result, "card", "mail1")
    assert not together(result, "card", "mail2")


def test_two_mailboxes_of_one_first_name_and_two_family_names_at_one_employer_stay_apart():
    # a name on a card may hold a slip (Ferrari / Ferreira); an address is spelled exactly
    result = resolve([
        R("card1", "mixer", full_name="Aurora Ferrari", org="Harborlight Analytics",
          title="Data Engineer", emails=("aurora.ferrari@harborlight.example",)),
        R("card2", "phone-book", full_name="Aurora Ferreira", org="Harborlight Analytics",
          title="Data Engineer", emails=("aurora.ferreira@harborlight.example",))])
    assert not together(result, "card1", "card2")
    (candidate,) = result.candidates
    assert candidate.evidence.endswith("; mailboxes of two family names at one employer")


def _namesakes(card_title):
    """Two LinkedIn connections of one name at one employer, its two numbered mailboxes, and a
    card with the first mailbox (and the job title given)."""
    return resolve([
        R("li1", "linkedin", full_name="Wei Chen", org="Harborlight Analytics", title="Professor"),
        R("li2", "linkedin", full_name="Wei T. Chen", org="Harborlight Analytics",
          title="Head of Partnerships"),
        R("card", "cards", full_name="Wei Chen", org="Harborlight Analytics", title=card_title,
          emails=("wei.chen@harborlight.example",), phones=("+17735550133",)),
        R("mail1", "email", full_name="Wei Chen", emails=("wei.chen@harborlight.example",),
          names_reliable=False),
        R("mail2", "email", full_name="Chen, Wei", emails=("wei.chen2@harborlight.example",),
          names_reliable=False)])


@pytest.mark.parametrize("card_title, first, second", [
    ("Professor", "li1", "li2"), ("Head of Partnerships", "li2", "li1")])
def test_two_namesakes_at_one_employer_each_get_their_own_records_by_elimination(
        card_title, first, second):
    # The card's job title says which connection holds its mailbox; the other mailbox is then
    # the other connection's: the one holding the first already has its row of the list.
    result = _namesakes(card_title)
    assert sorted(result.clusters) == sorted([sorted(["card", "mail1", first]),
                                              sorted([second, "mail2"])])
    words = {frozenset((link.a, link.b)): link.evidence for link in result.links}
    assert words[frozenset(("card", first))].endswith(
        "; another person it could be fits another record of the same list as well, "
        "which this person fits far less")
    assert words[frozenset((second, "mail2"))].endswith(
        "; another person it could be already holds a record of the same list")


@pytest.mark.parametrize("card_title", [None, "Sales Manager"])
def test_two_namesakes_at_one_employer_stay_apart_when_nothing_tells_them_apart(card_title):
    result = _namesakes(card_title)
    assert sorted(result.clusters) == [["card", "mail1"], ["li1"], ["li2"], ["mail2"]]


def test_two_connections_the_model_finds_alike_are_two_people_a_mailbox_may_be():
    # Two LinkedIn connections of one name, employer and title are two people (a list with one
    # row per person), not one person a mailbox there may join into one.
    result = resolve([
        R("li1", "linkedin", full_name="Sarah Johnson", org="Sable Analytics Ltd", title="CTO"),
        R("li2", "linkedin", full_name="Sarah Johnson", org="Sable Analytics Ltd", title="CTO"),
        R("mail", "email", full_name="Sarah Johnson", emails=("johnson.s@sableanalytics.example",),
          names_reliable=False)])
    assert sorted(result.clusters) == [["li1"], ["li2"], ["mail"]]
    assert {c.evidence.rpartition("; ")[2] for c in result.candidates
            if "mail" in (c.a, c.b)} == {"fits several people of one source"}


def test_an_alias_a_card_lists_beside_the_main_address_is_one_person():
    result = resolve([
        R("card", "cards", full_name="Carlos Rodriguez", org="Harborlight Analytics",
          emails=("carlos.rodriguez@harborlight.example", "carlos@harborlight.example")),
        R("mail1", "email", full_name="Carlos Rodriguez",
          emails=("carlos.rodriguez@harborlight.example",), names_reliable=False),
        R("mail2", "email", full_name="Carlos R.", emails=("carlos@harborlight.example",),
          names_reliable=False)])
    assert len(result.clusters) == 1


def test_the_masculine_and_feminine_forms_of_a_name_are_two_names():
    assert given_level("daniel", "daniela") is None
    assert given_level("joseph", "josephine") is None
    assert given_level("antonio", "antonia") is None
    assert given_level("alexander", "alexandra") is None
    assert given_level("ann", "anna") == "nickname"          # the nicknames data pairs them
    assert given_level("hanna", "hannah") == "typo"


def test_daniel_and_daniela_of_one_family_at_one_employer_stay_apart():
    result = resolve([
        R("li", "linkedin", full_name="Daniela Okonkwo", org="Fjord Labs"),
        R("card", "cards", full_name="Daniel Okonkwo", org="Fjord Labs")])
    assert not together(result, "li", "card")
    assert all("given name spelled slightly differently" not in c.evidence
               for c in result.candidates)


def test_an_alias_spelled_otherwise_on_the_same_work_domain_is_left_to_the_model_and_links():
    result = resolve([
        R("work", "work-cards", full_name="Ines Okafor", org="Harborlight Analytics",
          emails=("ines.okafor@harborlight.example",)),
        R("phone", "phone-book", full_name="Ines Okafor",
          emails=("iokafor@harborlight.example",))])
    assert together(result, "work", "phone")
    assert "different addresses on one work mail domain" in result.links[0].evidence


@pytest.mark.parametrize("org, address", [
    ("Blue Fir Bio", "luis.okafor@bfb.example"),                 # its initials
    ("School of Fine Art", "luis@fineartschool.example")])       # its words in another order
def test_an_organisation_matches_a_domain_of_its_initials_or_its_words_reordered(org, address):
    result = resolve([
        R("li", "linkedin", full_name="Luis Okafor", org=org),
        R("mail", "email", full_name="Luis Okafor", emails=(address,), names_reliable=False)])
    assert "organisation agrees with mail domain" in result.links[0].evidence


def test_an_organisation_matches_a_domain_with_hq_or_group_around_its_name():
    result = resolve([
        R("li", "linkedin", full_name="Tova Lindqvist", org="Prairie Partners"),
        R("mail", "email", full_name="Tova Lindqvist", emails=("tova@pphq.example",),
          names_reliable=False),
        R("li2", "linkedin", full_name="Emeka Brandt", org="Larch Group"),
        R("mail2", "email", full_name="Emeka Brandt", emails=("e.brandt@larchgroup.example",),
          names_reliable=False)])
    evidence = {frozenset((link.a, link.b)): link.evidence for link in result.links}
    assert "organisation agrees with mail domain" in evidence[frozenset(("li", "mail"))]
    assert "organisation agrees with mail domain" in evidence[frozenset(("li2", "mail2"))]


def test_two_letters_of_a_domain_are_not_the_start_of_an_organisation():
    from kith.transforms.identity.resolve import _label_forms, _org_domain_forms
    assert "pa" not in _org_domain_forms("Pacific Shipping Lines Corp")
    assert "ps" not in _label_forms(["psychology"])


def test_a_domain_with_group_around_a_word_is_not_every_organisation_starting_with_it():
    from kith.transforms.identity.resolve import _label_forms, _org_domain_forms
    assert not set(_org_domain_forms("Alder Foods")) & _label_forms(["aldergroup"]).keys()
    assert set(_org_domain_forms("Alder Group")) & _label_forms(["aldergroup"]).keys()


def _two_people(a_names, b_names, misnamed):
    from kith.transforms.identity.resolve import _Clusters, _Prepared, _clusters_agree
    prepared = {f"a{i}": _Prepared(R(f"a{i}", "book", full_name=n)) for i, n in enumerate(a_names)}
    prepared |= {f"b{i}": _Prepared(R(f"b{i}", "book", full_name=n)) for i, n in enumerate(b_names)}
    clusters = _Clusters(list(prepared), [], 60)
    for side in "ab":
        keys = [k for k in prepared if k.startswith(side)]
        for k in keys[1:]:
            clusters.union(keys[0], k)
    return _clusters_agree("a0", "b0", prepared, clusters, set(), set(misnamed))


def test_a_record_linked_despite_its_first_name_does_not_stop_its_person_growing():
    assert _two_people(["Zachary Rollins", "Flynn Rollins"], ["Zachary Rollins"], {"a0", "a1"})


def test_a_record_linked_despite_its_name_joins_its_person_past_records_not_linked_to_it():
    # a0 is linked to b0 on other evidence than its name: b1, a slip of b0's, is no other person
    assert _two_people(["Anthony Goode"], ["Spyke Karlsen", "Spyke Karlsen"], set())
    assert not _two_people(["Anthony Goode"], ["Spyke Karlsen", "Mary Karlsen"], set())
    # nor is a record whose names are one person's read together (Kyra Wilde, Wilde Kyra)
    assert _two_people(["Wilde Kyra"], ["Kyra Wilde", "Kyra Everett"], {"b1"})
    assert not _two_people(["Wilde Kyra"], ["Kyra Wilde", "Kyra Everett"], set())


def test_names_that_fit_no_record_of_the_other_person_stop_a_chain():
    assert not _two_people(["Zachary Rollins", "Flynn Rollins"], ["Zachary Rollins"], set())
    assert not _two_people(["Zachary Rollins", "Flynn Rollins"], ["Peter Rollins"], {"a0", "a1"})


def test_an_umlaut_dropped_or_written_out_is_one_family_name():
    from kith.transforms.identity.names import fold_umlauts
    assert fold_umlauts("Krüger") == fold_umlauts("Krueger") == fold_umlauts("Kruger")
    assert fold_umlauts("Lowe") != fold_umlauts("Low")
    assert fold_umlauts("Schröder") == fold_umlauts("Schroeder") == fold_umlauts("Schroder")


def test_a_diphthong_before_an_e_is_not_a_written_out_umlaut():
    from kith.transforms.identity.names import fold_umlauts
    assert fold_umlauts("Bauer") != fold_umlauts("Baur")
    assert fold_umlauts("Sauer") != fold_umlauts("Saur")
    assert fold_umlauts("Breuer") == "breuer"


def test_a_family_name_with_its_umlaut_dropped_and_written_out_is_a_full_name_match():
    result = resolve([
        R("card", "mixer", full_name="Joseph Kruger", org="Juniper Logistics"),
        R("mail", "email", full_name="Joseph Krueger", emails=("joseph.krueger@harbor.example",),
          names_reliable=False)])
    found = [link.evidence for link in result.links + result.candidates]
    assert "full name exact" in found[0]


def test_a_given_name_with_a_slip_and_another_family_name_is_a_changed_family_name():
    home = dict(street="8 Dixon Drive, Bletchly Park", postcode="2068", locality="Toowoomba")
    result = resolve([
        R("a", "book", given_name="Zachariah", family_name="Morcom", **home),
        R("b", "cards", given_name="Zachiariah", family_name="Reid",
          street="Bletchly Park, 8 Dixon Drive", postcode="2068", locality="Toowoomba")])
    evidence = [link.evidence for link in result.links + result.candidates]
    assert "same given name, different family name" in evidence[0]
    assert "same street address" in evidence[0]          # its lines the other way round
    # kith's starting weights do not take a couple at one address for a changed name: only
    # data where names are often replaced does, with the street and the postcode agreeing
    assert not result.links
    # Daniel / Daniela are two names, not a slip of one
    result = resolve([R("a", "book", given_name="Daniel", family_name="Morcom", **home),
                      R("b", "cards", given_name="Daniela", family_name="Reid", **home)])
    assert all("same given name" not in link.evidence
               for link in result.links + result.candidates)


def test_two_profiles_on_one_service_are_two_accounts():
    card = R("card", "cards", full_name="Helga Parker", org="Juniper Logistics",
             title="Buyer", locality="Leeds")
    connection = R("li", "linkedin", full_name="Helga Parker", org="Juniper Logistics",
                   title="Buyer", locality="Leeds",
                   profiles=("https://www.linkedin.com/in/helga-parker-1bb6e94b4",))
    assert together(resolve([card, connection]), "card", "li")
    # the card names another LinkedIn profile: a namesake's, left for the user to review
    other = R("card", "cards", full_name="Helga Parker", org="Juniper Logistics",
              title="Buyer", locality="Leeds",
              profiles=("https://linkedin.com/in/helga-park-a15232718",))
    result = resolve([other, connection])
    assert not together(result, "card", "li")
    assert [(c.a, c.b) for c in result.candidates] in ([("card", "li")], [("li", "card")])
    # a personal website is no account: two of them do not keep one person apart
    site = R("card", "cards", full_name="Helga Parker", org="Juniper Logistics",
             title="Buyer", locality="Leeds", profiles=("https://helga.example",))
    blog = R("li", "linkedin", full_name="Helga Parker", org="Juniper Logistics",
             title="Buyer", locality="Leeds", profiles=("https://blog.helga.example",))
    assert together(resolve([site, blog]), "card", "li")


@pytest.mark.parametrize("level", ["same family name, given name spelled slightly differently",
                                   "same family name, nickname or short form of the given name",
                                   "same family name, an initial for the given name"])
def test_a_given_name_that_agrees_only_loosely_needs_something_besides_the_family_name(level):
    """Donald and Ronald Medina, Ellen and Helen, a D. Wagner: relatives share a family name and
    often like given names. However likely the model finds such a pair, with nothing else that
    agrees it waits for the user; an employer that agrees as well links it. An exact full name
    that is not common still links on its own."""
    records = [R("card", "phonebook", full_name="Donald Medina", org="Harborlight",
                 phones=("+15550001111",)),
               R("mail", "email", full_name="Ronald Medina",
                 emails=("ronald.medina@harborlight.example",), names_reliable=False)]
    prepared = {r.key: _Prepared(r) for r in records}
    stats, model = NameStats.of(prepared), Model(settings(), len(records), True, "")

    def verdict(probability, **levels):
        pair = ScoredPair("card", "mail", probability, 4.0, levels)
        return decide(pair, prepared["card"], prepared["mail"], stats, model)

    found, evidence = verdict(0.95, name=(level, 14.6))
    assert found == "candidate" and "agree only loosely" in evidence
    assert verdict(0.999, name=(level, 14.6),
                   organisation=("organisation agrees with mail domain", 6.6))[0] == "link"
    assert verdict(0.95, name=("full name exact", 14.6))[0] == "link"
