-- one row per two people (the owner left out, the lower person_id first) on one small e-mail message or meeting of the owner's
-- materialized: table
-- person_ids of: email
-- (computed again by occasion: the rows of an occasion come from its rows in
-- int_occasion_people and the people of their addresses alone, a mailing list counting as the
-- people of its address; see KEYED_BY_PEOPLE in transforms/runner.py. A table, not a CTE of
-- `acquaintances`, which reads it three times: a materialised CTE stays in memory, and over a
-- million messages it outgrew the build's memory limit.)
with settings as (
    select * from relationship_settings
),

owner as (
    select owner_person_id as person_id
    from identity_builds
    order by build_id desc
    limit 1
),

-- Mailing lists, by the rule of `interactions` (int_mailing_list_addresses).
list_addresses as (
    select email from int_mailing_list_addresses
),

-- mail that went to a mailing list: a list hides how many people it reached
list_mail as (
    select o.source_key
    from int_occasion_people as o
    join list_addresses as l using (email)
    where o.channel = 'email'
),

-- each person on a message or meeting, by the people of its addresses (no list is a person)
occasion_people as (
    select
        o.channel, o.occasion_key, o.source_key, o.together_at, o.n_people, ids.person_id,
        bool_or(o.is_from) as is_from
    from int_occasion_people as o
    join person_ids as ids on ids.record_key = 'email:' || o.email
    anti join list_addresses as l on l.email = o.email
    where ids.person_id is distinct from (select person_id from owner)
        and not (o.channel = 'email' and o.source_key in (select source_key from list_mail))
    group by all
),

-- A meeting is small when few are invited, the owner included; a thread when everyone on any
-- of its messages is few. (Without count(distinct): DuckDB cannot spill distinct aggregates.)
sizes as (
    select
        occasion_key,
        if(any_value(channel) = 'meeting', max(n_people), count(*) + 1) as n_people
    from (select distinct channel, occasion_key, n_people, person_id from occasion_people)
    group by occasion_key
),

-- (not materialized: a CTE read twice is otherwise held whole in memory)
small as not materialized (
    select p.* exclude (n_people), s.n_people
    from occasion_people as p
    join sizes as s using (occasion_key)
    cross join settings
    where s.n_people between 3 and settings.small_group_max_people
),

final as (
    select
        a.person_id as person_a_id,
        b.person_id as person_b_id,
        a.channel,
        a.occasion_key,
        a.source_key,
        a.together_at,
        a.n_people,
        a.is_from as is_from_a,
        b.is_from as is_from_b
    from small as a
    join small as b
        on b.channel = a.channel and b.source_key = a.source_key and b.person_id > a.person_id
)

select * from final
