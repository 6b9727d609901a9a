-- one row per contact card and phone number it lists
with unnested as (
    select card_id, unnest(phones) as phone, generate_subscripts(phones, 1) as phone_position
    from stg_contacts__cards
),

final as (
    select
        card_id,
        phone_position,
        phone.number as number,
        phone.e164 as e164,
        phone.types as types,
        phone.label as label
    from unnested
)

select * from final
