-- one row per contact card: its current version (latest REV, else latest load)
with latest_items as (
    -- what each file or CardDAV resource held at its latest load
    select *
    from contact_items
    qualify row_number() over (partition by source_uri, item order by load_id desc) = 1
),

-- Files are not mirrors: a scanner app that exports to the same file name each time must not
-- make earlier cards disappear. Only a server (CardDAV) saying a card was deleted removes it.
held_now as (
    select distinct unnest(cards).record_key as record_key
    from latest_items
    where not is_deleted
    union
    select distinct unnest(cards).record_key
    from contact_items
    where item = ''
),

-- a card that was only ever on a server, which no longer holds it
gone as (
    select distinct unnest(cards).record_key as record_key from contact_items
    except
    select record_key from held_now
),

versions as (
    select
        *,
        row_number() over (
            partition by record_key
            order by revised_at desc nulls last, load_id desc, position desc
        ) as version_rank,
        count(*) over (partition by record_key) as n_versions,
        min(loaded_at) over (partition by record_key) as first_loaded_at
    from raw_contacts
    where record_key not in (select record_key from gone)
),

final as (
    select
        record_key as card_id,
        source_kind,
        source_format,
        source_uri,
        position,
        load_id,
        first_loaded_at,
        loaded_at as version_loaded_at,
        n_versions,
        coalesce(full_name, nullif(concat_ws(' ', given_name, family_name), ''), org) as display_name,
        full_name,
        given_name,
        family_name,
        additional_names,
        name_prefix,
        name_suffix,
        is_name_derived,
        nicknames,
        org,
        org_units,
        title,
        role,
        note,
        categories,
        birthday,
        uid,
        revised_at,
        photo_sha256,
        field_confidence,
        connected_on,
        item,
        emails,
        phones,
        addresses,
        links
    from versions
    where version_rank = 1
)

select * from final
