-- one row per two people (the owner left out, the lower person_id first) on one small e-mail message or meeting of the owner's
-- materialized: table
-- person_ids of: email
-- the clock decides: stg_mail__messages by sent_at - interval 1 day; stg_calendar__occurrences by start_at
-- (a table, not a CTE of `acquaintances`, which reads it three times: a materialised CTE stays
-- in memory, and over a million messages it outgrew the build's memory limit)
with settings as (
    select * from relationship_settings
),

owner as (
    select owner_person_id as person_id
    from identity_builds
    order by build_id desc
    limit 1
),

messages as (
    select message_key, thread_id, sent_at, direction, is_automated
    from stg_mail__messages
),

-- (not materialized: a CTE read twice is otherwise held whole in memory)
participants as not materialized (
    select message_key, role, email
    from stg_mail__participants
    where role in ('from', 'to', 'cc', 'bcc') and not is_owner
),

-- Mailing lists, by the rule of `interactions` (int_mailing_list_addresses).
list_addresses as (
    select email from int_mailing_list_addresses
),

-- The owner's own mail as `interactions` counts it (no automated mail, no clock skew), and none
-- that went to a mailing list: a list hides how many people it reached.
mail as (
    select message_key, thread_id, sent_at
    from messages
    where direction in ('sent', 'received')
        and not is_automated
        and sent_at >= '1980-01-01'::timestamptz
        and sent_at <= now() + interval 1 day
        and message_key not in (
            select p.message_key from participants as p join list_addresses as l using (email))
),

mail_people as (
    select p.message_key, ids.person_id, bool_or(p.role = 'from') as is_from
    from participants as p
    join mail using (message_key)
    join person_ids as ids on ids.record_key = 'email:' || p.email
    where ids.person_id is distinct from (select person_id from owner)
    group by p.message_key, ids.person_id
),

-- a thread is small when everyone on any of its messages, the owner included, is few
threads as (
    select thread_id, count(*) + 1 as n_people
    from (select distinct m.thread_id, mp.person_id
          from mail as m
          join mail_people as mp using (message_key))
    group by thread_id
),

small_mail as (
    select m.message_key, m.thread_id, m.sent_at, t.n_people
    from mail as m
    join threads as t using (thread_id)
    cross join settings as s
    where t.n_people between 3 and s.small_group_max_people
),

-- two people together on one message of a small thread
mail_pairs as (
    select
        a.person_id as person_a_id,
        b.person_id as person_b_id,
        'email' as channel,
        'email:' || sm.thread_id as occasion_key,
        sm.message_key as source_key,
        sm.sent_at as together_at,
        sm.n_people,
        a.is_from as is_from_a,
        b.is_from as is_from_b
    from small_mail as sm
    join mail_people as a using (message_key)
    join mail_people as b on b.message_key = sm.message_key and b.person_id > a.person_id
),

-- Meetings that took place with the owner there (as in `interactions`); people who declined,
-- rooms and groups are not in them.
meeting_people as (
    select a.occurrence_key, ids.person_id
    from stg_calendar__attendees as a
    join person_ids as ids on ids.record_key = 'email:' || a.email
    anti join list_addresses as l on l.email = a.email
    where a.is_person
        and not a.is_owner
        and coalesce(a.partstat, '') not in ('DECLINED', 'DELEGATED')
        and ids.person_id is distinct from (select person_id from owner)
    group by a.occurrence_key, ids.person_id
),

small_meetings as (
    select e.occurrence_key, e.start_at, e.n_people
    from stg_calendar__events as e
    cross join settings as s
    where e.has_happened
        and e.is_owner_invited
        and e.start_at >= '1980-01-01'::timestamptz
        and e.n_people between 3 and s.small_group_max_people
),

meeting_pairs as (
    select
        a.person_id as person_a_id,
        b.person_id as person_b_id,
        'meeting' as channel,
        'meeting:' || sm.occurrence_key as occasion_key,
        sm.occurrence_key as source_key,
        sm.start_at as together_at,
        sm.n_people,
        false as is_from_a,
        false as is_from_b
    from small_meetings as sm
    join meeting_people as a using (occurrence_key)
    join meeting_people as b on b.occurrence_key = sm.occurrence_key
        and b.person_id > a.person_id
),

final as (
    select * from mail_pairs
    union all
    select * from meeting_pairs
)

select * from final
