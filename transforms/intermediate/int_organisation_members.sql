-- one row per organisation and person kith knows there, by the organisation on their card or the domain of their work mail
-- materialized: table
with handles as (
    select * from organisation_handles
),

known as (
    select person_id, organisation, emails
    from people
    where not is_owner
),

by_name as (
    select k.person_id, h.organisation_key, h.organisation, true as is_on_card,
        false as is_by_mail_domain
    from known as k
    join handles as h on h.kind = 'name' and h.handle = trim(k.organisation)
),

addresses as (
    select person_id, lower(regexp_extract(unnest(emails), '@([^@]+)$', 1)) as domain
    from known
),

by_domain as (
    select a.person_id, h.organisation_key, h.organisation, false as is_on_card,
        true as is_by_mail_domain
    from addresses as a
    join handles as h on h.kind = 'domain' and h.handle = a.domain
),

final as (
    select
        organisation_key,
        person_id,
        any_value(organisation) as organisation,
        bool_or(is_on_card) as is_on_card,
        bool_or(is_by_mail_domain) as is_by_mail_domain
    from (
        select * from by_name
        union all
        select * from by_domain
    )
    group by organisation_key, person_id
)

select * from final
