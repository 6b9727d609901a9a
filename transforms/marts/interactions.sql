-- one row per person per interaction with the owner: an e-mail either way, a meeting both attended, a LinkedIn message, a day of chat in one chat one way
-- materialized: table
-- person_ids of: chat email social
-- incremental: person_id
-- incremental: messages by source_key
-- the clock decides: stg_mail__messages.message_key by sent_at - interval 1 day; stg_social__messages.social_message_key by sent_at - interval 1 day; stg_chat__messages by sent_at - interval 1 day; stg_calendar__occurrences.record_key by start_at
with settings as (
    select * from relationship_settings
),

owner as (
    select owner_person_id as person_id
    from identity_builds
    order by build_id desc
    limit 1
),

-- (not materialized: a CTE read twice is otherwise held whole in memory)
messages as not materialized (
    select
        message_key, sent_at, direction, is_automated, is_owner_only_cc, n_other_recipients,
        from_email, list_id, reply_to_message_key
    from stg_mail__messages
),

participants as (
    select message_key, role, email, is_owner
    from stg_mail__participants
    where role in ('from', 'to', 'cc', 'bcc')
),

-- Mailing lists are not people (see int_mailing_list_addresses).
list_addresses as (
    select email from int_mailing_list_addresses
),

-- Clock-skewed dates (1970, 2100) are not interactions.
counted as not materialized (
    select *
    from messages
    where direction in ('sent', 'received')
        and not is_automated
        and sent_at >= '1980-01-01'::timestamptz
        and sent_at <= now() + interval 1 day
),

mail_people as (
    select
        p.message_key,
        ids.person_id,
        bool_or(p.role = 'from') as is_from,
        bool_or(p.role = 'to') as is_in_to,
        bool_or(p.role in ('to', 'cc', 'bcc')) as is_recipient
    from participants as p
    join person_ids as ids on ids.record_key = 'email:' || p.email
    anti join list_addresses as l on l.email = p.email
    -- only the messages counted, before grouping: the rest is most of the mail of a big
    -- mailbox (lists, notifications), and grouping it spilled and slowed the build
    semi join counted on counted.message_key = p.message_key
    where not p.is_owner
    group by p.message_key, ids.person_id
),

-- The messages counted that someone is on: all of them, but when the rows of a few people are
-- computed again (their person_ids alone), only theirs.
mail as (
    select
        m.message_key,
        m.sent_at,
        m.direction,
        m.is_owner_only_cc,
        -- everyone in it: the sender and every recipient, the owner included
        m.n_other_recipients + case when m.direction = 'sent' then 1 else 2 end
            as n_participants,
        coalesce(m.reply_to_message_key, 'mid:' || r.reference_ids[-1]) as parent_key
    from counted as m
    join raw_messages as r on r.record_key = m.message_key
    semi join mail_people as mp on mp.message_key = m.message_key
),

-- who wrote the message a mail answers (In-Reply-To, else the last References id)
parents as (
    select
        pm.message_key as parent_key,
        pm.direction as parent_direction,
        ids.person_id as parent_person_id
    from messages as pm
    left join person_ids as ids on ids.record_key = 'email:' || pm.from_email
    semi join mail on mail.parent_key = pm.message_key
),

emails as (
    select
        mp.person_id,
        mail.sent_at as interaction_at,
        'email' as channel,
        mail.direction,
        case
            when mail.direction = 'sent'
                then coalesce(pa.parent_direction = 'received'
                              and pa.parent_person_id = mp.person_id, false)
            else coalesce(pa.parent_direction = 'sent', false)
        end as is_reply,
        case when mail.direction = 'sent' then not mp.is_in_to else mail.is_owner_only_cc end
            as is_cc,
        mail.n_participants,
        null::varchar as organizer,
        null::varchar as owner_partstat,
        mail.message_key as source_key,
        1 as n_messages
    from mail
    join mail_people as mp
        on mp.message_key = mail.message_key
        and ((mail.direction = 'sent' and mp.is_recipient)
             or (mail.direction = 'received' and mp.is_from))
    left join parents as pa on pa.parent_key = mail.parent_key
),

-- Meetings that took place with the owner there (not cancelled, not declined by the owner), and
-- each other person invited who did not decline; rooms, resources and groups are not people.
meeting_people as (
    select
        a.occurrence_key,
        ids.person_id,
        bool_or(a.is_organizer) as is_organizer
    from stg_calendar__attendees as a
    join person_ids as ids on ids.record_key = 'email:' || a.email
    anti join list_addresses as l on l.email = a.email
    where a.is_person
        and not a.is_owner
        and coalesce(a.partstat, '') not in ('DECLINED', 'DELEGATED')
    group by a.occurrence_key, ids.person_id
),

meetings as (
    select
        mp.person_id,
        e.start_at as interaction_at,
        'meeting' as channel,
        'both' as direction,
        false as is_reply,
        false as is_cc,
        e.n_people as n_participants,
        case
            when e.is_owner_organizer then 'owner'
            when mp.is_organizer then 'them'
            else 'other'
        end as organizer,
        e.owner_partstat,
        e.occurrence_key as source_key,
        1 as n_messages
    from stg_calendar__events as e
    join meeting_people as mp using (occurrence_key)
    where e.has_happened
        and e.is_owner_invited
        and e.start_at >= '1980-01-01'::timestamptz
),

-- A LinkedIn message is a reply when the message before it in its conversation came from the
-- other side.
social as (
    select
        *,
        lag(direction) over conversation as previous_direction,
        lag(sender_profile) over conversation as previous_sender
    from stg_social__messages
    window conversation as (partition by platform, conversation_id
                            order by sent_at, social_message_key)
),

social_people as (
    select social_message_key, unnest(other_profiles) as profile
    from social
    where direction = 'sent'
    union all
    select social_message_key, sender_profile
    from social
    where direction = 'received' and sender_profile is not null
),

linkedin as (
    select
        ids.person_id,
        s.sent_at as interaction_at,
        'linkedin' as channel,
        s.direction,
        s.conversation_id is not null and case
            when s.direction = 'sent'
                then coalesce(s.previous_direction = 'received'
                              and s.previous_sender = sp.profile, false)
            else coalesce(s.previous_direction = 'sent', false)
        end as is_reply,
        false as is_cc,
        1 + s.n_recipients as n_participants,
        null::varchar as organizer,
        null::varchar as owner_partstat,
        s.social_message_key as source_key,
        1 as n_messages
    from social as s
    join social_people as sp using (social_message_key)
    join person_ids as ids on ids.record_key = 'social:' || sp.profile
    where s.direction in ('sent', 'received')
        and s.sent_at >= '1980-01-01'::timestamptz
        and s.sent_at <= now() + interval 1 day
),

-- Chats: a person's messages in one chat on one day, one way, are one interaction, so that a
-- chatty day does not outweigh a year of mail; its weight grows slowly with the number of
-- messages (chat_volume_weight). Sent messages reach everyone else in the chat.
chat_messages as (
    select platform, chat_id, sent_at, direction, n_people,
        unnest(case when direction = 'sent' then other_people else [sender] end) as participant
    from stg_chat__messages
    where is_counted
        and direction in ('sent', 'received')
        and sent_at >= '1980-01-01'::timestamptz
        and sent_at <= now() + interval 1 day
),

chat_days as (
    select
        ids.person_id,
        c.platform,
        c.chat_id,
        c.direction,
        -- the owner's day: an evening's chat is one day wherever UTC's midnight falls
        date_trunc('day', timezone(s.owner_timezone, c.sent_at)) as day,
        min(c.sent_at) as first_at,
        count(*) as n_messages,
        max(c.n_people) as n_people
    from chat_messages as c
    join person_ids as ids on ids.record_key = 'chat:' || c.platform || ':' || c.participant
    cross join settings as s
    group by all
),

chats as (
    select
        person_id,
        first_at as interaction_at,
        platform as channel,
        direction,
        -- a day on which they wrote and the owner wrote in that chat is a conversation
        count(*) over (partition by person_id, platform, chat_id, day) = 2 as is_reply,
        false as is_cc,
        n_people as n_participants,
        null::varchar as organizer,
        null::varchar as owner_partstat,
        platform || ':' || chat_id || ':' || strftime(day, '%Y-%m-%d') || ':' || direction
            as source_key,
        n_messages
    from chat_days
),

-- one row per person even when they used two of their addresses or profiles in one message
combined as (
    select
        person_id,
        any_value(interaction_at) as interaction_at,
        any_value(channel) as channel,
        any_value(direction) as direction,
        bool_or(is_reply) as is_reply,
        bool_and(is_cc) as is_cc,
        max(n_participants) as n_participants,
        min(organizer) as organizer,
        any_value(owner_partstat) as owner_partstat,
        source_key,
        max(n_messages) as n_messages
    from (
        select * from emails
        union all
        select * from meetings
        union all
        select * from linkedin
        union all
        select * from chats
    )
    group by person_id, source_key
),

final as (
    select
        c.person_id,
        c.interaction_at,
        c.channel,
        c.direction,
        c.is_reply,
        c.is_cc,
        c.n_participants,
        c.n_participants <= s.small_group_max_people as is_small_group,
        c.organizer,
        c.owner_partstat,
        -- intimacy: the owner's attention is shared among everyone else in it
        round(
            case c.channel when 'meeting' then s.meeting_weight else 1.0 end
            * case when c.is_cc then s.cc_weight else 1.0 end
            * (1 + s.chat_volume_weight * ln(c.n_messages))
            / sqrt(greatest(c.n_participants - 1, 1)),
            4) as weight,
        c.n_messages,
        c.source_key
    from combined as c
    cross join settings as s
    where c.person_id is distinct from (select person_id from owner)
)

select * from final
