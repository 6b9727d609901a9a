-- one row per pair of people (the owner left out) who were on the same small e-mail messages or meetings of the owner's: how often, how recently, and a tie strength 0-100
-- materialized: table
-- The owner's mail and calendar show only what the owner was on: two people who write to each
-- other every day without the owner are not here.
with settings as (
    select * from relationship_settings
),

owner as (
    select owner_person_id as person_id
    from identity_builds
    order by build_id desc
    limit 1
),

messages as materialized (
    select message_key, thread_id, sent_at, direction, is_automated, from_email, list_id
    from stg_mail__messages
),

participants as materialized (
    select message_key, email, bool_or(role = 'from') as is_from
    from stg_mail__participants
    where role in ('from', 'to', 'cc', 'bcc') and not is_owner
    group by message_key, email
),

-- Mailing lists, by the rule of `interactions`: the address a List-Id names, and any address
-- list mail went to that never sent mail of its own.
list_addresses as (
    select lower(regexp_replace(
        coalesce(nullif(regexp_extract(list_id, '<([^>]+)>', 1), ''), trim(list_id)), '\.', '@'))
        as email
    from messages
    where list_id is not null
    union
    (
        select p.email
        from participants as p
        join messages as m using (message_key)
        where m.list_id is not null and not p.is_from
        except
        select from_email
        from messages
        where not is_automated and from_email is not null
    )
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
    select p.message_key, ids.person_id, bool_or(p.is_from) as is_from
    from participants as p
    join mail using (message_key)
    join person_ids as ids on ids.record_key = 'email:' || p.email
    where ids.person_id is distinct from (select person_id from owner)
    group by p.message_key, ids.person_id
),

-- a thread is small when everyone on any of its messages, the owner included, is few
threads as (
    select m.thread_id, count(distinct mp.person_id) + 1 as n_people
    from mail as m
    join mail_people as mp using (message_key)
    group by m.thread_id
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
        sm.start_at as together_at,
        sm.n_people,
        false as is_from_a,
        false as is_from_b
    from small_meetings as sm
    join meeting_people as a using (occurrence_key)
    join meeting_people as b on b.occurrence_key = sm.occurrence_key
        and b.person_id > a.person_id
),

together as materialized (
    select * from mail_pairs
    union all
    select * from meeting_pairs
),

-- How much of the owner's group life each person is on. Someone on nearly every small thread
-- and meeting (a shared assistant, a team alias) is together with everyone and says little
-- about any one of them: `introductions` damps them by this share. The +1 keeps the only
-- thread of a small mailbox from damping its people to nothing.
presence as (
    select
        person_id,
        count(*) / ((select count(distinct occasion_key) from together) + 1.0) as group_share
    from (
        select person_a_id as person_id, occasion_key from together
        union
        select person_b_id, occasion_key from together
    )
    group by person_id
),

summed as (
    select
        t.person_a_id,
        t.person_b_id,
        count(distinct t.occasion_key) filter (where t.channel = 'email') as n_threads,
        count(*) filter (where t.channel = 'email') as n_emails,
        count(*) filter (where t.is_from_a) as n_emails_from_a,
        count(*) filter (where t.is_from_b) as n_emails_from_b,
        count(*) filter (where t.channel = 'meeting') as n_meetings,
        min(t.together_at) as first_together_at,
        max(t.together_at) as last_together_at,
        -- as in `interactions` and `relationships`: an e-mail neither of them sent (both only
        -- copied) counts cc_weight, attention is shared among everyone else there, and it
        -- counts half as much every half_life_days
        sum(case when t.channel = 'meeting' then s.meeting_weight
                 when t.is_from_a or t.is_from_b then 1.0
                 else s.cc_weight end
            / sqrt(t.n_people - 1)
            * pow(0.5, greatest(epoch(now()) - epoch(t.together_at), 0)
                       / 86400.0 / s.half_life_days)) as decayed_weight
    from together as t
    cross join settings as s
    group by t.person_a_id, t.person_b_id
),

measured as (
    select
        *,
        -- 1 when each wrote as much as the other (a meeting counts both ways), 0 when one only
        case when n_emails_from_a + n_emails_from_b + n_meetings = 0 then 0.0
             else 2.0 * least(n_emails_from_a + n_meetings, n_emails_from_b + n_meetings)
                  / (n_emails_from_a + n_emails_from_b + 2 * n_meetings)
        end as reciprocity,
        floor((epoch(last_together_at) - epoch(first_together_at)) / 86400)::integer
            as duration_days
    from summed
),

final as (
    select
        m.person_a_id,
        m.person_b_id,
        m.n_threads,
        m.n_emails,
        m.n_emails_from_a,
        m.n_emails_from_b,
        m.n_meetings,
        m.first_together_at,
        m.last_together_at,
        floor((epoch(now()) - epoch(m.last_together_at)) / 86400)::integer
            as days_since_together,
        round(m.reciprocity, 3) as reciprocity,
        round(m.decayed_weight, 3) as decayed_weight,
        -- the formula of `relationships`' strength
        round(100 * (1 - exp(-m.decayed_weight / s.intensity_scale))
              * (0.6 + 0.3 * m.reciprocity + 0.1 * least(m.duration_days / 730.0, 1)), 1)
            as strength,
        round(pa.group_share, 3) as person_a_group_share,
        round(pb.group_share, 3) as person_b_group_share
    from measured as m
    cross join settings as s
    join presence as pa on pa.person_id = m.person_a_id
    join presence as pb on pb.person_id = m.person_b_id
)

select * from final
