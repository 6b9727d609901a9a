-- one row per contact card: its current version (latest REV, else latest load)
with versions as (
    select
        *,
        row_number() over (
            partition by record_key
            order by revised_at desc nulls last, load_id desc, position desc
        ) as version_rank,
        count(*) over (partition by record_key) as n_versions,
        min(loaded_at) over (partition by record_key) as first_loaded_at
    from raw_contacts
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
        emails,
        phones,
        addresses,
        links
    from versions
    where version_rank = 1
)

select * from final
