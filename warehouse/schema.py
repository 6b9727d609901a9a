"""The warehouse schema as an ordered list of migrations.

Each migration runs once, in its own transaction, and is recorded in `schema_migrations`; opening an
older warehouse file for writing applies the ones it lacks. Never edit a migration that has shipped:
add a new one. Table and column comments are part of the schema: `kith sql` lists them.
"""

from __future__ import annotations

import duckdb

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "load ledger and rejects", """
        create sequence load_id_seq start 1;

        create table loads (
            load_id bigint primary key default nextval('load_id_seq'),
            source_kind varchar not null,
            source_uri varchar not null,
            tag varchar,
            started_at timestamptz not null,
            finished_at timestamptz,
            status varchar not null,
            n_read integer not null default 0,
            n_inserted integer not null default 0,
            n_updated integer not null default 0,
            n_already_present integer not null default 0,
            n_rejected integer not null default 0,
            error varchar
        );
        comment on table loads is 'One row per load: one pass over one source file or folder, with its counts';
        comment on column loads.source_kind is 'Connector that read it: vcard, contacts_csv';
        comment on column loads.source_uri is 'file:// URI of the file that was read';
        comment on column loads.tag is 'The --tag given to kith import, e.g. "Chamber mixer 2026-11-20"';
        comment on column loads.status is 'completed, or failed (then nothing of it was written; see error)';
        comment on column loads.n_read is 'Records read from the source, rejected ones included';
        comment on column loads.n_inserted is 'Record versions written: new records plus new versions of known ones';
        comment on column loads.n_updated is 'Of n_inserted, new versions of records already in the warehouse';
        comment on column loads.n_already_present is 'Records already stored with the same content';
        comment on column loads.n_rejected is 'Records that could not be read; see rejects';

        create table rejects (
            load_id bigint not null,
            source_kind varchar not null,
            source_uri varchar not null,
            position integer,
            reason varchar not null,
            raw_text varchar,
            reject_hash varchar not null,
            rejected_at timestamptz not null
        );
        comment on table rejects is 'One row per source record that could not be read: where, why, and its raw text';
        comment on column rejects.position is '1-based line in the source file where the record starts';
        comment on column rejects.reason is 'Why it was not loaded, in words';
        comment on column rejects.raw_text is 'The record as the source said it';
    """),
    (2, "contact cards", """
        create table raw_contacts (
            record_key varchar not null,
            record_hash varchar not null,
            source_kind varchar not null,
            source_uri varchar not null,
            position integer not null,
            load_id bigint not null,
            loaded_at timestamptz not null,
            source_format varchar not null,
            full_name varchar,
            given_name varchar,
            family_name varchar,
            additional_names varchar,
            name_prefix varchar,
            name_suffix varchar,
            is_name_derived boolean not null,
            nicknames varchar[],
            org varchar,
            org_units varchar[],
            title varchar,
            role varchar,
            note varchar,
            categories varchar[],
            birthday varchar,
            uid varchar,
            revision varchar,
            revised_at timestamptz,
            photo_sha256 varchar,
            emails struct(address varchar, normalized varchar, types varchar[], label varchar)[],
            phones struct(number varchar, e164 varchar, types varchar[], label varchar)[],
            addresses struct(po_box varchar, extended varchar, street varchar, locality varchar,
                             region varchar, postal_code varchar, country varchar,
                             types varchar[], label varchar)[],
            links struct(value varchar, kind varchar, service varchar, types varchar[], label varchar)[],
            raw_text varchar,
            primary key (record_key, record_hash)
        );
        comment on table raw_contacts is 'One row per version of a contact card as a vCard or contacts CSV said it';
        comment on column raw_contacts.record_key is 'The card''s identity across imports: uid:<vCard UID>, else hash:<content hash>';
        comment on column raw_contacts.record_hash is 'Hash of the card''s content (REV and provenance left out): a new hash is a new version';
        comment on column raw_contacts.position is '1-based line in the source file where the card or row starts';
        comment on column raw_contacts.source_format is 'vcard-2.1, vcard-3.0, vcard-4.0, csv-google, csv-outlook, csv-thunderbird, csv-generic';
        comment on column raw_contacts.is_name_derived is 'given_name / family_name were split from full_name by kith, not given by the source';
        comment on column raw_contacts.birthday is 'YYYY-MM-DD, or --MM-DD when the year is unknown';
        comment on column raw_contacts.photo_sha256 is 'SHA-256 of the photo; the photo itself is not stored';
        comment on column raw_contacts.emails is 'Every e-mail: address as written, normalized (trimmed, lower-case), types, label';
        comment on column raw_contacts.phones is 'Every phone: number as written, e164 (NULL when it does not parse), types, label';
        comment on column raw_contacts.links is 'URLs, social profiles and IM handles: value, kind (url, social, impp), service';
        comment on column raw_contacts.raw_text is 'The card or row as the source said it (photo data replaced by its hash)';

        create table record_tags (
            record_key varchar not null,
            tag varchar not null,
            load_id bigint not null,
            tagged_at timestamptz not null,
            primary key (record_key, tag)
        );
        comment on table record_tags is 'One row per (contact card, import tag): which import tagged which card';
    """),
    (3, "mail messages, sync state, owner addresses", """
        create table raw_messages (
            record_key varchar primary key,
            record_hash varchar not null,
            message_id varchar not null,
            has_message_id boolean not null,
            source_kind varchar not null,
            source_uri varchar not null,
            folder varchar,
            position bigint not null,
            load_id bigint not null,
            loaded_at timestamptz not null,
            date_raw varchar,
            sent_at timestamptz,
            from_addrs struct(name varchar, address varchar, normalized varchar)[],
            sender_addrs struct(name varchar, address varchar, normalized varchar)[],
            reply_to_addrs struct(name varchar, address varchar, normalized varchar)[],
            to_addrs struct(name varchar, address varchar, normalized varchar)[],
            cc_addrs struct(name varchar, address varchar, normalized varchar)[],
            bcc_addrs struct(name varchar, address varchar, normalized varchar)[],
            in_reply_to varchar,
            reference_ids varchar[],
            list_id varchar,
            list_unsubscribe varchar,
            precedence varchar,
            auto_submitted varchar,
            return_path varchar,
            gmail_labels varchar[],
            gmail_thread_id varchar,
            subject varchar,
            warnings varchar[],
            raw_text varchar
        );
        comment on table raw_messages is 'One row per e-mail message (by Message-ID), headers only, as first seen';
        comment on column raw_messages.record_key is 'mid:<Message-ID>; messages without one get a stable kith-<hash> id';
        comment on column raw_messages.has_message_id is 'false when message_id was made from a hash of the headers';
        comment on column raw_messages.position is 'mbox: 1-based line of the From_ line; IMAP: the UID; else 1';
        comment on column raw_messages.sent_at is 'The Date header in UTC; NULL when it does not parse (see warnings)';
        comment on column raw_messages.reference_ids is 'Message-IDs in the References header, oldest first';
        comment on column raw_messages.subject is 'Only stored when the user opted in';
        comment on column raw_messages.raw_text is 'The header fields kith reads, as the message wrote them (never the body)';

        create table message_sightings (
            record_key varchar not null,
            source_kind varchar not null,
            source_uri varchar not null,
            folder varchar,
            position bigint not null,
            gmail_labels varchar[],
            load_id bigint not null,
            seen_at timestamptz not null,
            primary key (record_key, source_uri, position)
        );
        comment on table message_sightings is 'One row per place a message was seen: file or IMAP folder, and position there';

        create table sync_state (
            source_uri varchar primary key,
            cursor json not null,
            load_id bigint not null,
            updated_at timestamptz not null
        );
        comment on table sync_state is 'One row per incremental source (an IMAP folder...): where the last sync stopped';
        comment on column sync_state.cursor is 'e.g. {"uidvalidity": 1700000000, "last_uid": 4211}';

        create table owner_addresses (
            address varchar primary key,
            added_at timestamptz not null
        );
        comment on table owner_addresses is 'The owner''s own e-mail addresses (normalised): mail from them is sent, to them received';
    """),
    (4, "calendar events", """
        create table raw_events (
            record_key varchar not null,
            record_hash varchar not null,
            source_kind varchar not null,
            source_uri varchar not null,
            item varchar,
            position integer not null,
            load_id bigint not null,
            loaded_at timestamptz not null,
            calendar varchar,
            uid varchar not null,
            occurrence_id varchar not null,
            start_at timestamptz not null,
            end_at timestamptz,
            start_tz varchar,
            is_all_day boolean not null,
            is_recurring boolean not null,
            sequence integer,
            status varchar,
            organizer struct(email varchar, normalized varchar, name varchar, partstat varchar,
                             role varchar, cutype varchar),
            attendees struct(email varchar, normalized varchar, name varchar, partstat varchar,
                             role varchar, cutype varchar)[],
            summary varchar,
            warnings varchar[],
            raw_text varchar,
            primary key (record_key, record_hash)
        );
        comment on table raw_events is 'One row per version of a calendar event occurrence (UID + original start)';
        comment on column raw_events.record_key is 'ev:<UID>:<occurrence_id>: stays the same when an occurrence is moved';
        comment on column raw_events.occurrence_id is 'The occurrence''s original start (RECURRENCE-ID) in UTC, or its date for all-day events';
        comment on column raw_events.item is 'CalDAV: the resource href the event came from; files: NULL';
        comment on column raw_events.start_tz is 'The time zone the event was written in';
        comment on column raw_events.summary is 'Only stored when the user opted in';

        create table event_items (
            source_uri varchar not null,
            item varchar not null,
            load_id bigint not null,
            is_deleted boolean not null,
            occurrences struct(record_key varchar, record_hash varchar)[] not null,
            primary key (source_uri, item, load_id)
        );
        comment on table event_items is 'One row per calendar file or CalDAV resource per load: the occurrences it held then';
        comment on column event_items.item is 'CalDAV resource href; empty for a whole file';
        comment on column event_items.is_deleted is 'The server said the resource was deleted';
    """),
    (5, "LinkedIn connections and messages, CardDAV cards", """
        alter table raw_contacts add column connected_on date;
        alter table raw_contacts add column item varchar;
        comment on column raw_contacts.connected_on is 'LinkedIn: the day the connection was made';
        comment on column raw_contacts.item is 'CardDAV: the resource href the card came from';

        create table contact_items (
            source_uri varchar not null,
            item varchar not null,
            load_id bigint not null,
            is_deleted boolean not null,
            cards struct(record_key varchar, record_hash varchar)[] not null,
            primary key (source_uri, item, load_id)
        );
        comment on table contact_items is 'One row per CardDAV resource per load: the card it held then, or that it was deleted';

        create table raw_social_messages (
            record_key varchar primary key,
            record_hash varchar not null,
            source_kind varchar not null,
            source_uri varchar not null,
            position integer not null,
            load_id bigint not null,
            loaded_at timestamptz not null,
            platform varchar not null,
            conversation_id varchar,
            message_id varchar,
            sender_name varchar,
            sender_profile varchar,
            recipient_names varchar[],
            recipient_profiles varchar[],
            sent_at timestamptz,
            folder varchar,
            raw_text varchar
        );
        comment on table raw_social_messages is 'One row per message on a social platform (LinkedIn): who wrote to whom, when; never the text';

        create table raw_social_invitations (
            record_key varchar primary key,
            record_hash varchar not null,
            source_kind varchar not null,
            source_uri varchar not null,
            position integer not null,
            load_id bigint not null,
            loaded_at timestamptz not null,
            platform varchar not null,
            direction varchar not null,
            other_name varchar,
            other_profile varchar,
            sent_at timestamptz,
            raw_text varchar
        );
        comment on table raw_social_invitations is 'One row per connection invitation sent or received on a social platform';
    """),
    (6, "identity resolution", """
        create table identity_rules (
            rule_id bigint primary key,
            decision varchar not null,
            record_a varchar not null,
            record_b varchar not null,
            created_at timestamptz not null
        );
        comment on table identity_rules is 'The user''s decisions (kith merge, kith split) as pairs of records that are, or are not, one person; applied on every rebuild';
        comment on column identity_rules.decision is 'merge: record_a and record_b are one person; split: they are not';

        create table person_ids (
            record_key varchar primary key,
            person_id bigint not null,
            assigned_at timestamptz not null
        );
        comment on table person_ids is 'One row per identity record: the person it belongs to. Kept between rebuilds so ids stay stable';

        create table person_links (
            person_id bigint not null,
            record_a varchar not null,
            record_b varchar not null,
            rule varchar not null,
            evidence varchar not null,
            score double
        );
        comment on table person_links is 'One row per link that joined two records into one person: the rule and the evidence';

        create table merge_candidates (
            person_a bigint not null,
            person_b bigint not null,
            record_a varchar not null,
            record_b varchar not null,
            score double,
            evidence varchar not null
        );
        comment on table merge_candidates is 'Pairs of people that may be one: some evidence, not enough to merge. kith merge A B accepts one';

        create table excluded_handles (
            kind varchar not null,
            handle varchar not null,
            reason varchar not null,
            n_records integer not null
        );
        comment on table excluded_handles is 'Handles that are not used to link records (role addresses, the owner''s, shared by different people), and why';

        create table person_id_changes (
            build_id bigint not null,
            changed_at timestamptz not null,
            person_id bigint not null,
            change varchar not null,
            record_key varchar not null,
            new_person_id bigint
        );
        comment on table person_id_changes is 'Where the records of a person went when its id stopped existing (merged, split) or lost records (split)';

        create table identity_builds (
            build_id bigint primary key,
            built_at timestamptz not null,
            fingerprint varchar not null,
            n_records integer not null,
            n_people integer not null,
            n_links integer not null,
            n_candidates integer not null,
            n_refused integer not null,
            n_skipped_blocks integer not null,
            max_person_id bigint not null,
            owner_person_id bigint,
            seconds double not null
        );
        comment on table identity_builds is 'One row per identity resolution run: its inputs'' fingerprint and counts';
    """),
    (7, "relationship settings and tier snapshots", """
        create table relationship_settings (
            settings_id integer primary key default 1 check (settings_id = 1),
            half_life_days double not null default 90,
            active_days integer not null default 90,
            cooling_days integer not null default 365,
            inner_circle_min_strength double not null default 80,
            inner_circle_min_months integer not null default 9,
            small_group_max_people integer not null default 8,
            intensity_scale double not null default 10,
            meeting_weight double not null default 2,
            cc_weight double not null default 0.5,
            updated_at timestamptz
        );
        insert into relationship_settings default values;
        comment on table relationship_settings is 'One row: the thresholds and weights the relationships view uses (kith.toml [transforms])';
        comment on column relationship_settings.half_life_days is 'An interaction counts half as much to strength after this many days';
        comment on column relationship_settings.active_days is 'Two-way contact within this many days: active (or inner circle)';
        comment on column relationship_settings.cooling_days is 'Last two-way contact within this many days, but not within active_days: cooling; older: dormant';

        create table tier_snapshots (
            snapshot_id bigint not null,
            taken_at timestamptz not null,
            person_id bigint not null,
            tier varchar not null,
            previous_tier varchar,
            primary key (snapshot_id, person_id)
        );
        comment on table tier_snapshots is 'One row per person whose tier changed at a snapshot (taken after a build; the first holds everyone)';
    """),
    (8, "mail without unspillable indexes; loads that commit in chunks", """
        -- A primary key is an ART index, which DuckDB keeps in memory and cannot spill: at a
        -- few million messages it outgrew the load's memory limit. The loader de-duplicates
        -- with anti joins instead, so these two tables are rebuilt without their keys.
        create table raw_messages_v8 as select * from raw_messages limit 0;
        insert into raw_messages_v8 select * from raw_messages;
        drop table raw_messages;
        alter table raw_messages_v8 rename to raw_messages;
        create table message_sightings_v8 as select * from message_sightings limit 0;
        insert into message_sightings_v8 select * from message_sightings;
        drop table message_sightings;
        alter table message_sightings_v8 rename to message_sightings;
        alter table raw_messages alter column record_key set not null;
        alter table raw_messages alter column record_hash set not null;
        alter table raw_messages alter column message_id set not null;
        alter table raw_messages alter column has_message_id set not null;
        alter table raw_messages alter column source_kind set not null;
        alter table raw_messages alter column source_uri set not null;
        alter table raw_messages alter column position set not null;
        alter table raw_messages alter column load_id set not null;
        alter table raw_messages alter column loaded_at set not null;
        alter table message_sightings alter column record_key set not null;
        alter table message_sightings alter column source_kind set not null;
        alter table message_sightings alter column source_uri set not null;
        alter table message_sightings alter column position set not null;
        alter table message_sightings alter column load_id set not null;
        alter table message_sightings alter column seen_at set not null;
        comment on table raw_messages is 'One row per e-mail message (by Message-ID), headers only, as first seen';
        comment on column raw_messages.record_key is 'mid:<Message-ID>; messages without one get a stable kith-<hash> id';
        comment on column raw_messages.has_message_id is 'false when message_id was made from a hash of the headers';
        comment on column raw_messages.position is 'mbox: 1-based line of the From_ line; IMAP: the UID; else 1';
        comment on column raw_messages.sent_at is 'The Date header in UTC; NULL when it does not parse (see warnings)';
        comment on column raw_messages.reference_ids is 'Message-IDs in the References header, oldest first';
        comment on column raw_messages.subject is 'Only stored when the user opted in';
        comment on column raw_messages.raw_text is 'The header fields kith reads, as the message wrote them (never the body)';
        comment on table message_sightings is 'One row per place a message was seen: file or IMAP folder, and position there';
        comment on column loads.status is 'completed; running (a mail file committing chunk by chunk, or one killed part-way); interrupted (a later load of the same source found it running); failed (see error; only its committed chunks were kept)';
        comment on table sync_state is 'One row per incremental source (an IMAP folder, an mbox file being imported): where the last load stopped';
        comment on column sync_state.cursor is 'e.g. {"uidvalidity": 1700000000, "last_uid": 4211}; an mbox: {"offset": 52428800, "line": 901234, "finished": false, ...}';
    """),
    (9, "load statuses: refused and interrupted", """
        comment on column loads.status is 'completed; running (a mail file committing chunk by chunk); refused (the file was not read at all, see error); failed (reading or writing broke part-way: nothing of it was written but the chunks a mail load had committed, see error); interrupted (Ctrl-C, or a later load found it still running: only committed chunks were kept)';
        comment on column loads.error is 'Why a refused, failed or interrupted load did not complete';
    """),
    (10, "identity match model", """
        create table identity_models (
            model_id bigint primary key,
            trained_at timestamptz not null,
            n_records integer not null,
            is_estimated boolean not null,
            model_version varchar not null,
            note varchar not null,
            settings json not null
        );
        comment on table identity_models is 'One row per match model identity resolution used: estimated from the records of the time, or kith''s starting weights; re-estimated when the records have grown by a quarter';
        comment on column identity_models.is_estimated is 'true: m and u were estimated from this warehouse''s records; false: kith''s shipped starting weights (too few records)';
        comment on column identity_models.settings is 'The model as Splink''s settings: every comparison level with its m and u probability';

        alter table identity_builds add column model_id bigint;
        alter table identity_builds add column model_note varchar;
        comment on column person_links.score is 'For rule match_model: the match probability of the pair; null for other rules';
        comment on column merge_candidates.score is 'The match probability of the pair (match model)';
    """),
    (11, "chat messages, the owner in chats, chat weights", """
        create table raw_chat_messages (
            record_key varchar not null,
            record_hash varchar not null,
            source_kind varchar not null,
            source_uri varchar not null,
            position bigint not null,
            load_id bigint not null,
            loaded_at timestamptz not null,
            platform varchar not null,
            chat_id varchar not null,
            chat_name varchar,
            chat_type varchar,
            message_id varchar not null,
            sent_at timestamptz,
            kind varchar not null,
            sender_name varchar,
            sender_id varchar,
            sender_phone varchar,
            sender_email varchar,
            is_from_owner boolean,
            members varchar[],
            warnings varchar[],
            raw_text varchar
        );
        comment on table raw_chat_messages is 'One row per message in a chat app export (WhatsApp, Telegram, Messenger, Instagram, iMessage, X): who wrote in which chat, when. Never the text';
        comment on column raw_chat_messages.platform is 'whatsapp, telegram, messenger, instagram, imessage or x';
        comment on column raw_chat_messages.chat_id is 'The export''s id for the chat (Telegram id, thread_path, chat.db guid, X conversationId), else its name (WhatsApp: from the file name)';
        comment on column raw_chat_messages.kind is 'message, media, call, reaction, deleted or system (joins, leaves, encryption notices)';
        comment on column raw_chat_messages.sender_id is 'The app''s id for the sender: Telegram user123, X user id, iMessage handle';
        comment on column raw_chat_messages.sender_phone is 'The sender''s number in E.164 when the export shows a number';
        comment on column raw_chat_messages.is_from_owner is 'True or false when the export says who the owner is (iMessage is_from_me, Telegram account export); else NULL';
        comment on column raw_chat_messages.members is 'The chat''s members where the export lists them, as ids or names like the senders';
        comment on column raw_chat_messages.raw_text is 'The message''s header as written (date, time, sender; JSON fields), never its text';

        create table owner_chat_names (
            handle varchar primary key,
            added_at timestamptz not null
        );
        comment on table owner_chat_names is 'Names and phone numbers (E.164) the owner writes under in chats (kith owner --name / --phone, [owner] names and phones)';

        alter table relationship_settings add column chat_volume_weight double default 0.5;
        alter table relationship_settings add column owner_timezone varchar default 'UTC';
        update relationship_settings set chat_volume_weight = 0.5, owner_timezone = 'UTC';
        comment on column relationship_settings.owner_timezone is 'The owner''s zone (kith.toml [owner] timezone): chat days are counted in it';
        comment on column relationship_settings.chat_volume_weight is 'A day of chat with someone, one way, weighs 1 + this x ln(messages that day)';
    """),
    # 12, not 8: the numbers between were given to other work at the same time.
    (12, "business cards read from photos", """
        alter table raw_contacts add column field_confidence map(varchar, double);
        comment on column raw_contacts.field_confidence is 'A card read by OCR from a photo: how sure the reading is of each field, 0 to 1 (full_name, title, org; for emails, phones, links, addresses the lowest of their values). Null for cards a source typed';
        comment on column raw_contacts.photo_sha256 is 'SHA-256 of the photo: a vCard''s embedded PHOTO, or the photo / scan a card was read from by OCR. The photo itself is not kept';
    """),
    (13, "rejects name the CalDAV / CardDAV resource; partial loads", """
        alter table rejects add column item varchar;
        comment on column rejects.item is 'CalDAV / CardDAV: href of the resource the reject came from (null for files)';
        comment on column loads.status is 'completed; partial (loaded, but the server could not serve some resources: see rejects); or failed (then nothing of it was written; see error)';
    """),
    (15, "organisation handles", """
        create table organisation_handles (
            kind varchar not null,
            handle varchar not null,
            organisation_key varchar not null,
            organisation varchar not null,
            primary key (kind, handle)
        );
        comment on table organisation_handles is 'One row per organisation name as written on a card, or mail domain: the organisation it belongs to (rewritten by every build)';
        comment on column organisation_handles.kind is 'name (as written on a card) or domain (of an e-mail address)';
    """),
    # 17, not 16: 16 may be taken by work on other branches at the same time.
    (17, "what each table model was last built from", """
        create table model_builds (
            model varchar primary key,
            fingerprint varchar not null,
            built_at timestamptz not null,
            how varchar not null
        );
        comment on table model_builds is 'One row per table model (`-- materialized: table`): a fingerprint of what it was last computed from, so that a rebuild recomputes only the models whose inputs changed';
        comment on column model_builds.fingerprint is 'Hash of the model''s SQL and of the state of every table it reads (directly or through views): row count and latest load id, or a hash of the rows; the hour for models that read the clock';
        comment on column model_builds.how is 'full (computed from scratch) or people (only the rows of the people whose records changed were computed again)';

        create table identity_record_hashes (
            record_key varchar not null,
            record_hash varchar not null
        );
        comment on table identity_record_hashes is 'One row per identity record as the last identity resolution saw it: a hash of the record and of the rules, owner addresses and model it was resolved under, so that the next resolution finds what changed';
    """),
    (18, "the kind of priors each identity resolution used", """
        alter table identity_builds add column priors_kind varchar;
        comment on column identity_builds.priors_kind is 'starting (kith''s prior) or estimated, with the sources found to hold duplicates: a resolution of only the records an import touched is done again in full when this changes';
    """),
    (19, "what identity resolution keeps of each record", """
        drop table identity_record_hashes;
        create table identity_record_facts (
            record_key varchar not null,
            record_hash varchar not null,
            given varchar, family varchar,
            k_family varchar, k_family_initial varchar, k_given varchar,
            k_given_family_initial varchar, k_birthday varchar, k_street varchar,
            k_postcode varchar, k_postcode_initial varchar,
            work varchar, given_initial varchar, family_initial varchar, postcode varchar,
            source varchar, reliable boolean, nameless boolean,
            full_given varchar, full_family varchar, org varchar,
            work_labels varchar[], handles varchar[]
        );
        comment on table identity_record_facts is 'One row per identity record as the last identity resolution saw it: a hash of the record and of the rules, owner addresses, match model and code it was resolved under, so that the next resolution finds what changed; and what grouping other records needs to know of it (its blocking keys, names, employer, handles), so that only the records an import touched are read';
    """),
    (20, "the pairs the match model scored, kept between identity resolutions", """
        create table identity_pairs (
            record_a varchar not null,
            record_b varchar not null,
            evidence double not null,
            levels varchar not null
        );
        comment on table identity_pairs is 'One row per pair of records the match model scored, as it scored them (kept while neither record nor its blocks change): a resolution after an import scores only the pairs of the records it touched';
        comment on column identity_pairs.evidence is 'The comparisons'' match weights summed, without the prior (bits)';
        comment on column identity_pairs.levels is 'JSON: comparison -> [level, match weight]';
        create table identity_blocks (
            record_key varchar not null,
            k_family varchar, k_family_initial varchar, k_given varchar,
            k_given_family_initial varchar, k_birthday varchar, k_street varchar,
            k_postcode varchar, k_postcode_initial varchar
        );
        comment on table identity_blocks is 'One row per identity record (the owner''s left out): its blocking keys with big blocks split, as the pairs of identity_pairs were blocked';
        alter table identity_builds add column pairs_floor double;
        comment on column identity_builds.pairs_floor is 'The evidence down to which identity_pairs holds every blocked pair (NULL: it does not)';
    """),
    (21, "scores that fade with time are computed again each day, not each hour", """
        comment on column model_builds.fingerprint is 'Hash of the model''s SQL and of the state of every table it reads (directly or through views): row count and latest load id, or a hash of the rows; the day (UTC) for models that read the clock';
    """),
    (22, "calendar events without an unspillable index; .ics loads that commit in chunks; "
         "event_items holds each item's latest load", """
        -- As raw_messages in version 8: the primary key's ART index stays in memory (about
        -- 200 bytes an occurrence, 0.5 GB for a calendar of a million events); the loader
        -- keeps (record_key, record_hash) unique with anti joins.
        create table raw_events_v22 as select * from raw_events limit 0;
        insert into raw_events_v22 select * from raw_events;
        drop table raw_events;
        alter table raw_events_v22 rename to raw_events;
        alter table raw_events alter column record_key set not null;
        alter table raw_events alter column record_hash set not null;
        alter table raw_events alter column source_kind set not null;
        alter table raw_events alter column source_uri set not null;
        alter table raw_events alter column position set not null;
        alter table raw_events alter column load_id set not null;
        alter table raw_events alter column loaded_at set not null;
        alter table raw_events alter column uid set not null;
        alter table raw_events alter column occurrence_id set not null;
        alter table raw_events alter column start_at set not null;
        alter table raw_events alter column is_all_day set not null;
        alter table raw_events alter column is_recurring set not null;
        comment on table raw_events is 'One row per version of a calendar event occurrence (UID + original start)';
        comment on column raw_events.record_key is 'ev:<UID>:<occurrence_id>: stays the same when an occurrence is moved';
        comment on column raw_events.occurrence_id is 'The occurrence''s original start (RECURRENCE-ID) in UTC, or its date for all-day events';
        comment on column raw_events.item is 'CalDAV: the resource href the event came from; files: NULL';
        comment on column raw_events.start_tz is 'The time zone the event was written in';
        comment on column raw_events.summary is 'Only stored when the user opted in';
        -- only an item's latest row is read (stg_calendar__occurrences): the loader now
        -- deletes the older ones as it writes a new one
        delete from event_items as e
        using (select source_uri, item, max(load_id) as latest from event_items group by all) as l
        where e.source_uri = l.source_uri and e.item = l.item and e.load_id < l.latest;
        comment on table event_items is 'One row per calendar file or CalDAV resource: the occurrences it held at its latest load';
        comment on column loads.status is 'completed; partial (CalDAV / CardDAV: loaded, but the server could not serve some resources: see rejects); running (a mail or .ics file committing chunk by chunk, or one killed part-way); refused (the file was not read at all, see error); failed (reading or writing broke part-way: nothing of it was written but the chunks a mail or .ics load had committed, see error); interrupted (Ctrl-C, or a later load found it still running: only committed chunks were kept)';
    """),
]

LATEST_VERSION = MIGRATIONS[-1][0]


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "select count(*) from duckdb_tables() where table_name = 'schema_migrations' "
        "and schema_name = 'main' and database_name = current_database()").fetchone()[0]
    if not exists:
        return 0
    return con.execute("select coalesce(max(version), 0) from schema_migrations").fetchone()[0]


def migrate(con: duckdb.DuckDBPyConnection, target: int = LATEST_VERSION) -> list[int]:
    """Apply every migration up to `target` that the file has not had; return those applied.
    Missing numbers below the file's version are applied too: migrations written on parallel
    branches can land in any order."""
    con.execute("""
        create table if not exists schema_migrations (
            version integer primary key, name varchar not null, applied_at timestamptz not null)""")
    done = {row[0] for row in con.execute("select version from schema_migrations").fetchall()}
    applied = []
    for number, name, sql in MIGRATIONS:
        if number not in done and number <= target:
            con.execute("begin transaction")
            try:
                con.execute(sql)
                con.execute("insert into schema_migrations values (?, ?, now())", [number, name])
                con.execute("commit")
            except Exception:
                con.execute("rollback")
                raise
            # DuckDB 1.4 cannot replay a WAL that holds these migrations ("GetDefaultDatabase
            # with no default database set"): a process killed before its next checkpoint would
            # leave a warehouse that no longer opens. Writing each into the file at once avoids it.
            con.execute("checkpoint")
            applied.append(number)
    return applied
