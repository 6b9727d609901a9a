-- one row per card read from a photo whose reading is unsure: no name, or a field under 0.6 confidence
-- The threshold is connectors/card_photos.py's UNSURE_BELOW; the import summary lists these.
with photo_cards as (
    select * from stg_contacts__cards
    where field_confidence is not null
),

final as (
    select
        card_id,
        display_name,
        full_name is null as is_name_missing,
        list_sort(list_transform(
            list_filter(map_entries(field_confidence), f -> f.value < 0.6), f -> f.key))
            as unsure_fields,
        field_confidence,
        source_uri,
        position,
        load_id,
        photo_sha256
    from photo_cards
)

select * from final
where is_name_missing or len(unsure_fields) > 0
