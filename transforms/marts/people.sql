-- one row per person: every record kith resolved into one human, with a display name, handles, organisation and the lists they are on
-- materialized: table
-- incremental: person_id
-- records of: int_identity_records; raw_contacts by 'card:' || record_key; contact_items by 'card:' || unnest(cards).record_key; record_tags by 'card:' || record_key
-- (a table: `organisations`, `introductions`, `kith person` and the network views read it;
-- computing it costs seconds on a large mailbox)
with records as (
    select
        ids.person_id,
        r.*,
        cards.source_kind as card_source_kind,
        cards.source_format as card_format,
        cards.connected_on,
        cards.version_loaded_at as card_loaded_at
    from person_ids as ids
    join int_identity_records as r using (record_key)
    left join stg_contacts__cards as cards on r.record_key = 'card:' || cards.card_id
),

tags as (
    select 'card:' || record_key as record_key, tag
    from record_tags
),

mail_counts as (
    select 'email:' || email as record_key, n_messages
    from stg_mail__addresses
),

ranked as (
    select
        records.*,
        coalesce(mail_counts.n_messages, 0) as n_messages,
        coalesce(nullif(trim(full_name), ''),
                 nullif(trim(concat_ws(' ', given_name, family_name)), '')) as name,
        -- which record names the person: the owner's own address book first, then what people
        -- call themselves (LinkedIn, platform messages), then what mail clients said
        case
            when record_kind = 'card' and not card_format similar to '(linkedin|facebook|instagram|x)-.*'
                then 1
            when record_kind = 'card' then 2
            when record_kind = 'social' then 3
            else 4
        end as name_rank
    from records
    left join mail_counts using (record_key)
),

owner as (
    select owner_person_id
    from identity_builds
    order by build_id desc
    limit 1
),

final as (
    select
        person_id,
        coalesce(
            arg_min(name, (name_rank, -epoch(coalesce(card_loaded_at, '1970-01-01'::timestamptz))))
                filter (where name is not null and name not like '%@%'),
            arg_max(emails[1], n_messages) filter (where len(emails) > 0),
            arg_min(phones[1], record_key) filter (where len(phones) > 0),
            arg_min(profiles[1], record_key) filter (where len(profiles) > 0),
            '(no name)'
        ) as display_name,
        coalesce(
            arg_max(emails[1], n_messages) filter (where record_kind = 'email' and n_messages > 0),
            min(emails[1]) filter (where len(emails) > 0)
        ) as primary_email,
        list_sort(list_distinct(flatten(list(emails)))) as emails,
        list_sort(list_distinct(flatten(list(phones)))) as phones,
        list_sort(list_distinct(flatten(list(profiles)))) as profiles,
        -- the most recent card that names an employer (a LinkedIn connection is kept current)
        arg_max(org, (card_format like 'linkedin%', coalesce(card_loaded_at, '1970-01-01'::timestamptz)))
            filter (where org is not null) as organisation,
        arg_max(title, (card_format like 'linkedin%', coalesce(card_loaded_at, '1970-01-01'::timestamptz)))
            filter (where title is not null) as title,
        bool_or(card_format = 'linkedin-connection') as is_linkedin_connection,
        min(connected_on) as linkedin_connected_on,
        bool_or(record_kind = 'card' and card_format not like 'linkedin%'
                and card_source_kind not in ('carddav', 'social_lists')
                and record_key not in (select record_key from tags)) as in_address_book,
        -- friends, followers, followed accounts: lists on other platforms
        list_sort(list_distinct(list(case split_part(card_format, '-', 1)
                                         when 'facebook' then 'Facebook'
                                         when 'instagram' then 'Instagram'
                                         when 'x' then 'X' end)
                                filter (where card_source_kind = 'social_lists')))
            as social_lists,
        bool_or(card_source_kind = 'carddav') as in_carddav,
        coalesce(list_sort(list_distinct(list(tags.tag) filter (where tags.tag is not null))), [])
            as card_tags,
        count(distinct record_key) as n_records,
        list_sort(list_distinct(list(record_kind))) as record_kinds,
        coalesce(person_id = any_value((select owner_person_id from owner)), false) as is_owner
    from ranked
    left join tags using (record_key)
    group by person_id
)

select
    *,
    list_concat(
        case when is_linkedin_connection then ['LinkedIn'] else [] end,
        social_lists,
        list_transform(card_tags, t -> 'cards: ' || t),
        case when in_address_book then ['address book'] else [] end,
        case when in_carddav then ['CardDAV'] else [] end
    ) as lists
from final
