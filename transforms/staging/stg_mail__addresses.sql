-- one row per normalised e-mail address seen in mail headers, with the names it was seen with
-- materialized: table
-- (counted per message first, then per address: DuckDB cannot spill count(distinct), and over a
-- million messages it outgrew the build's memory limit)
with address_messages as (
    select
        p.email,
        p.message_key,
        bool_or(p.role in ('from', 'sender')) as is_sent_by,
        bool_or(p.is_owner) as is_owner
    from stg_mail__participants as p
    group by p.email, p.message_key
),

counts as (
    select
        a.email,
        count(*) as n_messages,
        count(*) filter (where a.is_sent_by) as n_sent_by,
        min(m.sent_at) as first_seen_at,
        max(m.sent_at) as last_seen_at,
        bool_or(a.is_owner) as is_owner
    from address_messages as a
    join raw_messages as m on m.record_key = a.message_key
    group by a.email
),

names as (
    select email, list(display_name) as display_names
    from (select distinct email, display_name
          from stg_mail__participants
          where display_name is not null)
    group by email
),

final as (
    select
        c.email,
        n.display_names,
        c.n_messages,
        c.n_sent_by,
        c.first_seen_at,
        c.last_seen_at,
        c.is_owner
    from counts as c
    left join names as n using (email)
)

select * from final
