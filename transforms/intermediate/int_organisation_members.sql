-- one row per organisation and person kith knows there, by the organisation on their card or the domain of their work mail
-- materialized: table
with employers as (
    select * from int_person_employers
),

handles as (
    select * from organisation_handles
),

final as (
    select
        h.organisation_key,
        e.person_id,
        any_value(h.organisation) as organisation,
        bool_or(e.kind = 'name') as is_on_card,
        bool_or(e.kind = 'domain') as is_by_mail_domain
    from employers as e
    join handles as h using (kind, handle)
    group by h.organisation_key, e.person_id
)

select * from final
