-- one row per e-mail address (the owner's left out) on one of the owner's e-mail messages or meetings that could bring two people together: the addresses `int_people_together` pairs up
-- materialized: table
-- incremental: messages by source_key
-- the clock decides: stg_mail__messages.message_key by sent_at - interval 1 day; stg_calendar__occurrences.record_key by start_at
-- (addresses, not people, and mailing lists not yet left out: identity resolution moving a few
-- people, or finding a list, leaves this table as it was, and `int_people_together` computes
-- again only the occasions of the people who moved)
with messages as (
    select message_key, thread_id, sent_at, direction, is_automated
    from stg_mail__messages
),

participants as (
    select message_key, role, email
    from stg_mail__participants
    where role in ('from', 'to', 'cc', 'bcc') and not is_owner
),

-- The owner's own mail as `interactions` counts it (no automated mail, no clock skew).
mail as (
    select message_key, thread_id, sent_at
    from messages
    where direction in ('sent', 'received')
        and not is_automated
        and sent_at >= '1980-01-01'::timestamptz
        and sent_at <= now() + interval 1 day
),

mail_addresses as (
    select
        'email' as channel,
        'email:' || m.thread_id as occasion_key,
        m.message_key as source_key,
        m.sent_at as together_at,
        null::bigint as n_people,
        p.email,
        bool_or(p.role = 'from') as is_from
    from participants as p
    join mail as m using (message_key)
    group by all
),

-- Meetings that took place with the owner there (as in `interactions`); people who declined,
-- rooms and groups are not in them. A meeting's size is everyone invited, the owner included.
meeting_addresses as (
    select
        'meeting' as channel,
        'meeting:' || e.occurrence_key as occasion_key,
        e.occurrence_key as source_key,
        e.start_at as together_at,
        e.n_people,
        a.email,
        false as is_from
    from stg_calendar__events as e
    join stg_calendar__attendees as a using (occurrence_key)
    where e.has_happened
        and e.is_owner_invited
        and e.start_at >= '1980-01-01'::timestamptz
        and a.is_person
        and not a.is_owner
        and coalesce(a.partstat, '') not in ('DECLINED', 'DELEGATED')
    group by all
),

final as (
    select * from mail_addresses
    union all
    select * from meeting_addresses
)

select * from final
