-- one row per contact card, current version, with its e-mails, phones and import tags
with tags as (
    select record_key as card_id, list(tag order by tagged_at, tag) as tags,
           min(tagged_at) as first_tagged_at
    from record_tags
    group by record_key
),

final as (
    select
        cards.card_id,
        cards.display_name,
        cards.given_name,
        cards.family_name,
        cards.org,
        cards.title,
        list_filter(list_transform(cards.emails, e -> e.normalized), x -> x is not null) as emails,
        list_transform(cards.phones, p -> coalesce(p.e164, p.number)) as phones,
        list_transform(list_filter(cards.links, l -> l.kind = 'social'), l -> l.value)
            as social_profiles,
        cards.birthday,
        cards.categories,
        coalesce(tags.tags, []) as tags,
        cards.source_kind,
        cards.source_format,
        cards.source_uri,
        cards.field_confidence,
        cards.first_loaded_at as imported_at,
        cards.n_versions
    from stg_contacts__cards as cards
    left join tags using (card_id)
)

select * from final
