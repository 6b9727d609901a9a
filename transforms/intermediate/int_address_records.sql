-- one row per e-mail address seen in mail or calendar headers, as an identity record: the names it was seen with
-- materialized: table
-- (a table: counting the names of every header of every message costs seconds, and it changes
-- only when mail or calendar do; identity resolution and `people` read it through
-- int_identity_records)
with address_names as (
    select email, display_name, count(*) as n
    from stg_mail__participants
    group by all
    union all
    select email, display_name, count(*)
    from stg_calendar__attendees
    where is_person
    group by all
),

final as (
    select
        'email:' || email as record_key,
        'email' as record_kind,
        'email' as source,
        -- the name the address was seen with most often; of names seen as often, the longest
        -- (the fuller name), then the first in alphabetical order, so that every build picks
        -- the same one
        arg_max(display_name, (n, length(display_name), display_name))
            filter (where display_name is not null) as full_name,
        [email] as emails,
        []::varchar[] as phones,
        []::varchar[] as profiles,
        list(display_name order by n desc, length(display_name) desc, display_name)
            filter (where display_name is not null) as names_seen,
        false as names_reliable
    from (select email, display_name, sum(n) as n from address_names group by all)
    group by email
)

select * from final
