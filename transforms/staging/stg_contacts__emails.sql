-- one row per contact card and e-mail address it lists
with unnested as (
    select card_id, unnest(emails) as email, generate_subscripts(emails, 1) as email_position
    from stg_contacts__cards
),

final as (
    select
        card_id,
        email_position,
        email.address as address,
        email.normalized as email,
        email.types as types,
        email.label as label
    from unnested
    where email.normalized is not null
    qualify row_number() over (partition by card_id, email.normalized order by email_position) = 1
)

select * from final
