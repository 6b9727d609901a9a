-- one row per person (the owner left out) and sign of their employer: the organisation their current card names (kind name), or the domain of an address they use (kind domain)
-- materialized: table
-- incremental: person_id
-- records of: int_identity_records; raw_contacts by 'card:' || record_key; contact_items by 'card:' || unnest(cards).record_key
-- (organisation resolution and `int_organisation_members` read it; a table kept between builds,
-- computed again for the people whose records or cards changed: the automated senders alone
-- cost a second over a million messages)
-- An address that only ever sent automated mail (notifications@, newsletters, billing) is the
-- organisation's machinery, not someone who works there: it gives no domain.
-- Read from tables and cards only, not from `people` (which costs seconds on a large mailbox);
-- the organisation follows the rule of `people.organisation`.
with owner as (
    select owner_person_id as person_id
    from identity_builds
    order by build_id desc
    limit 1
),

cards as (
    select
        'card:' || card_id as record_key,
        nullif(trim(org), '') as org,
        source_format,
        version_loaded_at,
        emails
    from stg_contacts__cards
),

-- the most recent card that names an employer, a LinkedIn connection first (kept current)
named as (
    select
        ids.person_id,
        'name' as kind,
        arg_max(c.org, (c.source_format like 'linkedin%',
                        coalesce(c.version_loaded_at, '1970-01-01'::timestamptz))) as handle
    from person_ids as ids
    join cards as c using (record_key)
    where c.org is not null
    group by ids.person_id
),

addresses as (
    select person_id, substr(record_key, length('email:') + 1) as email
    from person_ids
    where record_key like 'email:%'
    union
    select ids.person_id, e.normalized
    from person_ids as ids
    join cards as c using (record_key), unnest(c.emails) as t(e)
    where e.normalized is not null
),

-- (of their addresses alone: a build computing a few people's rows reads little of the mail)
automated_senders as (
    select from_email as email
    from stg_mail__messages
    where from_email in (select email from addresses)
    group by from_email
    having bool_and(is_automated)
),

domains as (
    select distinct person_id, 'domain' as kind,
        lower(regexp_extract(email, '@([^@]+)$', 1)) as handle
    from addresses
    where email not in (select email from automated_senders)
),

final as (
    select * from named
    union all
    select * from domains
    where handle <> ''
)

select * from final
where person_id is distinct from (select person_id from owner)
