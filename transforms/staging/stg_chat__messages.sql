-- one row per chat message (WhatsApp, Telegram, Messenger, Instagram, iMessage, X): who wrote it in which chat, its direction and how many people the chat holds
with messages as (
    select
        record_key as chat_message_key,
        platform,
        chat_id,
        chat_name,
        chat_type,
        sent_at,
        kind,
        -- a sender is known by the app's id, else by number, else by the name the export shows
        coalesce(sender_id, sender_phone, sender_name) as sender,
        sender_name,
        is_from_owner,
        members,
        source_uri,
        load_id
    from raw_chat_messages
),

-- everyone seen in a chat: its senders and the members the export lists (iOS WhatsApp puts
-- the chat's own name on its notices: a notice has no author)
chat_people as (
    select distinct platform, chat_id, participant
    from (
        select platform, chat_id, sender as participant from messages where kind <> 'system'
        union all
        select platform, chat_id, unnest(members) from messages
    )
    where participant is not null
),

chats as (
    select platform, chat_id, any_value(chat_name) as chat_name
    from messages
    group by all
),

-- Which participant is the owner, where the export does not say (iMessage and Telegram account
-- exports do): a name or number the owner gave (kith owner --name / --phone); the one person
-- in every chat of a platform (two chats or more); and in a chat of two people named after one
-- of them (WhatsApp and Telegram name a one-to-one chat after the other person), the other.
named as (
    select distinct m.platform, m.sender as participant
    from messages as m
    join owner_chat_names as o
        on lower(o.handle) = lower(m.sender) or lower(o.handle) = lower(m.sender_name)
    union
    select distinct p.platform, p.participant
    from chat_people as p
    join owner_chat_names as o on lower(o.handle) = lower(p.participant)
),

said as (
    select distinct platform, sender as participant
    from messages
    where is_from_owner and sender is not null
),

in_every_chat as (
    select platform, participant
    from chat_people
    group by platform, participant
    having count(*) >= 2
        and count(*) = (select count(distinct c.chat_id) from chats as c
                        where c.platform = chat_people.platform)
    qualify count(*) over (partition by platform) = 1
),

named_after_other as (
    select p.platform, p.participant
    from chat_people as p
    join chats as c using (platform, chat_id)
    where (select count(*) from chat_people as q
           where q.platform = p.platform and q.chat_id = p.chat_id) = 2
        and lower(p.participant) <> lower(c.chat_name)
        and exists (select 1 from chat_people as q
                    where q.platform = p.platform and q.chat_id = p.chat_id
                        and lower(q.participant) = lower(c.chat_name))
),

owners as (
    select platform, participant from named
    union
    select platform, participant from said
    union
    select platform, participant from in_every_chat
    union
    select platform, participant from named_after_other
),

-- platforms on which kith knows who the owner is: the rest of their messages were received
owner_known as (
    select distinct platform from owners
    union
    select distinct platform from messages where is_from_owner is not null
),

chat_sizes as (
    select
        p.platform,
        p.chat_id,
        -- the owner and everyone else
        1 + count(*) filter (where o.participant is null) as n_people,
        list(p.participant order by p.participant) filter (where o.participant is null)
            as other_people
    from chat_people as p
    left join owners as o using (platform, participant)
    group by p.platform, p.chat_id
),

final as (
    select
        m.chat_message_key,
        m.platform,
        m.chat_id,
        m.chat_name,
        m.chat_type,
        m.sent_at,
        m.kind,
        -- someone wrote (a text, a photo, a call); not a join, a deleted message, a reaction,
        -- nor a note in Telegram's saved messages (the owner's own, forwards included)
        m.kind in ('message', 'media', 'call') and m.chat_type is distinct from 'saved_messages'
            as is_counted,
        m.sender,
        m.sender_name,
        case
            when m.is_from_owner then 'sent'
            when o.participant is not null then 'sent'
            when m.is_from_owner is not null or k.platform is not null then 'received'
            else 'unknown'
        end as direction,
        coalesce(s.n_people, 1) as n_people,
        coalesce(s.other_people, []::varchar[]) as other_people,
        m.source_uri,
        m.load_id
    from messages as m
    left join owners as o on o.platform = m.platform and o.participant = m.sender
    left join owner_known as k on k.platform = m.platform
    left join chat_sizes as s on s.platform = m.platform and s.chat_id = m.chat_id
)

select * from final
