-- one row per identity record: a contact card, an address seen in mail or calendar, a social profile seen in platform messages, or someone in a chat, with its names and handles
-- materialized: for the build
-- (identity resolution reads all of it, `people` the records of the people it moved)
-- (`union all by name` at the end fills the columns a kind of record does not have with NULL)
with cards as (
    select
        'card:' || card_id as record_key,
        'card' as record_kind,
        -- records of one file (or one CardDAV book) are one source: two cards named John Smith
        -- in one file are two people
        source_uri as source,
        full_name,
        given_name,
        family_name,
        list_filter(list_transform(emails, e -> e.normalized), x -> x is not null) as emails,
        list_distinct(list_filter(list_transform(phones, p -> p.e164), x -> x is not null))
            as phones,
        list_distinct(list_transform(list_filter(links, l -> l.kind = 'social'), l -> l.value))
            as profiles,
        org,
        title,
        birthday,
        addresses[1].street as street,
        addresses[1].locality as locality,
        addresses[1].postal_code as postcode,
        addresses[1].region as region,
        []::varchar[] as names_seen,
        true as names_reliable,
        case when source_format = 'linkedin-connection' then 'linkedin' end as platform
    from stg_contacts__cards
),

addresses as (
    select * from int_address_records
),

profile_names as (
    select platform, sender_profile as profile, sender_name as name
    from raw_social_messages
    union all
    select platform, unnest(recipient_profiles), unnest(recipient_names)
    from raw_social_messages
    where len(recipient_profiles) = len(recipient_names)
    union all
    select platform, other_profile, other_name
    from raw_social_invitations
),

profiles as (
    select
        'social:' || profile as record_key,
        'social' as record_kind,
        platform || ' messages' as source,
        mode(nullif(trim(name), '')) as full_name,
        []::varchar[] as emails,
        []::varchar[] as phones,
        [profile] as profiles,
        []::varchar[] as names_seen,
        true as names_reliable,
        platform
    from profile_names
    where profile is not null
    group by platform, profile
),

-- Someone in a chat, as the app knows them (a Telegram or X id, a number, the name the
-- owner's phone shows). A number is a phone handle, an iMessage address an e-mail one; a
-- Telegram or X id is a profile handle; a WhatsApp name is the owner's phone-book name.
chat_messages as materialized (
    select platform, chat_id, sender, sender_name, kind, other_people
    from stg_chat__messages
),

chat_participants as (
    select platform, sender as participant, sender_name as name
    from chat_messages
    where sender is not null and kind <> 'system'
    union all
    -- members who never wrote; other_people is the same on every message of a chat
    select platform, unnest(other_people), null
    from (select platform, chat_id, any_value(other_people) as other_people
          from chat_messages group by platform, chat_id)
),

chatters as (
    select
        'chat:' || platform || ':' || participant as record_key,
        'chat' as record_kind,
        platform || ' chats' as source,
        mode(nullif(trim(name), '')) as full_name,
        case when participant like '%@%' then [lower(participant)] else []::varchar[] end
            as emails,
        case when regexp_matches(participant, '^\+\d{6,15}$') then [participant]
             else []::varchar[] end as phones,
        case when (platform = 'telegram' and regexp_matches(participant, '^user\d+$'))
                  or (platform = 'x' and regexp_matches(participant, '^\d+$'))
             then [platform || ':' || participant] else []::varchar[] end as profiles,
        []::varchar[] as names_seen,
        true as names_reliable,
        platform
    from chat_participants
    group by platform, participant
),

final as (
    select * from cards
    union all by name
    select * from addresses
    union all by name
    select * from profiles
    union all by name
    select * from chatters
)

select * from final
