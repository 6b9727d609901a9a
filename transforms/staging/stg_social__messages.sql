-- one row per social-platform message (LinkedIn), with who wrote it, to whom, and its direction
with participants as (
    select record_key, platform, sender_profile as profile from raw_social_messages
    union all
    select record_key, platform, unnest(recipient_profiles) from raw_social_messages
),

-- The owner's own profile is in every conversation of their export: the profile seen in the
-- most messages of each platform.
owner_profiles as (
    select platform, arg_max(profile, n) as owner_profile
    from (select platform, profile, count(distinct record_key) as n
          from participants where profile is not null group by all)
    group by platform
),

final as (
    select
        m.record_key as social_message_key,
        m.platform,
        m.conversation_id,
        m.sent_at,
        m.sender_name,
        m.sender_profile,
        m.recipient_names,
        m.recipient_profiles,
        len(m.recipient_profiles) as n_recipients,
        case
            when o.owner_profile is null then 'unknown'
            when m.sender_profile = o.owner_profile then 'sent'
            when list_contains(m.recipient_profiles, o.owner_profile) then 'received'
            else 'neither'
        end as direction,
        list_filter(list_concat([m.sender_profile], m.recipient_profiles),
                    p -> p is not null and p is distinct from o.owner_profile)
            as other_profiles,
        m.folder,
        m.source_uri,
        m.load_id
    from raw_social_messages as m
    left join owner_profiles as o using (platform)
)

select * from final
