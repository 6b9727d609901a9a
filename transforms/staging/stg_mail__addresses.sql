-- one row per normalised e-mail address seen in mail headers, with the names it was seen with
with final as (
    select
        p.email,
        list(distinct p.display_name) filter (where p.display_name is not null) as display_names,
        count(distinct p.message_key) as n_messages,
        count(distinct p.message_key) filter (where p.role in ('from', 'sender')) as n_sent_by,
        min(m.sent_at) as first_seen_at,
        max(m.sent_at) as last_seen_at,
        bool_or(p.is_owner) as is_owner
    from stg_mail__participants as p
    join raw_messages as m on m.record_key = p.message_key
    group by p.email
)

select * from final
