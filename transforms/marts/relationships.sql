-- one row per person (the owner left out): their interactions with the owner summed up, a strength 0-100 and a tier
-- materialized: for the build
-- incremental: person_id
-- (`organisations`, `introductions` and the tier snapshot read it: the build computes it once)
with settings as (
    select * from relationship_settings
),

owner as (
    select owner_person_id as person_id
    from identity_builds
    order by build_id desc
    limit 1
),

-- Everyone kith resolved (as in `people`), and whether a contact card is among their records:
-- a LinkedIn connection, a business card, an address book or CardDAV entry.
everyone as (
    select person_id, bool_or(record_key like 'card:%') as has_card
    from person_ids
    where person_id is distinct from (select person_id from owner)
    group by person_id
),

aged as (
    select
        i.*,
        (epoch(now()) - epoch(i.interaction_at)) / 86400.0 as age_days,
        -- recency: each interaction counts half as much every half_life_days, counted from now
        -- and (for the strength the relationship had when it went quiet) from the last one
        i.weight * pow(0.5, greatest(epoch(now()) - epoch(i.interaction_at), 0)
                            / 86400.0 / s.half_life_days) as decayed_weight,
        i.weight * pow(0.5, (epoch(max(i.interaction_at) over (partition by i.person_id))
                             - epoch(i.interaction_at)) / 86400.0 / s.half_life_days)
            as weight_at_last
    from interactions as i
    cross join settings as s
),

summed as (
    select
        person_id,
        count(*) as n_interactions,
        min(interaction_at) as first_interaction_at,
        max(interaction_at) as last_interaction_at,
        arg_max(channel, interaction_at) as last_channel,
        count(*) filter (where age_days <= 30) as n_interactions_30d,
        count(*) filter (where age_days <= 90) as n_interactions_90d,
        count(*) filter (where age_days <= 365) as n_interactions_365d,
        count(*) filter (where channel = 'email') as n_emails,
        count(*) filter (where channel = 'meeting') as n_meetings,
        count(*) filter (where channel = 'linkedin') as n_linkedin_messages,
        count(*) filter (where channel in ('whatsapp', 'telegram', 'messenger', 'instagram',
                                           'imessage', 'x')) as n_chat_days,
        sum(n_messages) filter (where channel in ('whatsapp', 'telegram', 'messenger',
                                                  'instagram', 'imessage', 'x'))
            as n_chat_messages,
        count(*) filter (where direction = 'sent') as n_sent,
        count(*) filter (where direction = 'received') as n_received,
        count(*) filter (where direction = 'sent' and is_reply) as n_replies_sent,
        count(*) filter (where direction = 'received' and is_reply) as n_replies_received,
        count(*) filter (where direction = 'sent' and is_small_group) as n_small_group_sent,
        count(*) filter (where direction = 'received' and is_small_group)
            as n_small_group_received,
        count(*) filter (where channel = 'meeting' and is_small_group) as n_small_meetings,
        max(interaction_at) filter (where direction = 'sent' and is_small_group)
            as last_small_group_sent_at,
        max(interaction_at) filter (where direction = 'received' and is_small_group)
            as last_small_group_received_at,
        max(interaction_at) filter (where channel = 'meeting' and is_small_group)
            as last_small_meeting_at,
        max(interaction_at) filter (where is_reply and is_small_group) as last_small_group_reply_at,
        count(distinct date_trunc('month', interaction_at)) as n_months_with_contact,
        count(distinct date_trunc('month', interaction_at)) filter (where age_days <= 365)
            as n_months_with_contact_365d,
        sum(weight) as total_weight,
        sum(decayed_weight) as decayed_weight,
        sum(weight_at_last) as weight_at_last
    from aged
    group by person_id
),

measured as (
    select
        e.person_id,
        coalesce(s.n_interactions, 0) as n_interactions,
        s.first_interaction_at,
        s.last_interaction_at,
        s.last_channel,
        coalesce(s.n_interactions_30d, 0) as n_interactions_30d,
        coalesce(s.n_interactions_90d, 0) as n_interactions_90d,
        coalesce(s.n_interactions_365d, 0) as n_interactions_365d,
        coalesce(s.n_emails, 0) as n_emails,
        coalesce(s.n_meetings, 0) as n_meetings,
        coalesce(s.n_linkedin_messages, 0) as n_linkedin_messages,
        coalesce(s.n_chat_days, 0) as n_chat_days,
        coalesce(s.n_chat_messages, 0) as n_chat_messages,
        coalesce(s.n_sent, 0) as n_sent,
        coalesce(s.n_received, 0) as n_received,
        coalesce(s.n_replies_sent, 0) as n_replies_sent,
        coalesce(s.n_replies_received, 0) as n_replies_received,
        coalesce(s.n_small_group_sent, 0) as n_small_group_sent,
        coalesce(s.n_small_group_received, 0) as n_small_group_received,
        coalesce(s.n_small_meetings, 0) as n_small_meetings,
        s.last_small_group_sent_at,
        s.last_small_group_received_at,
        s.last_small_meeting_at,
        s.last_small_group_reply_at,
        -- the latest moment by which contact had gone both ways: a small meeting, a reply either
        -- way, or the older of the last small-group message each way
        greatest(
            case when s.last_small_group_sent_at is not null
                      and s.last_small_group_received_at is not null
                 then least(s.last_small_group_sent_at, s.last_small_group_received_at) end,
            s.last_small_meeting_at,
            s.last_small_group_reply_at) as last_two_way_at,
        coalesce(s.n_months_with_contact, 0) as n_months_with_contact,
        coalesce(s.n_months_with_contact_365d, 0) as n_months_with_contact_365d,
        coalesce(floor((epoch(s.last_interaction_at) - epoch(s.first_interaction_at)) / 86400),
                 0)::integer as duration_days,
        -- 1 when contact goes both ways evenly, 0 when only one way (small meetings count both)
        case when coalesce(s.n_small_group_sent + s.n_small_group_received
                           + 2 * s.n_small_meetings, 0) = 0 then 0.0
             else 2.0 * least(s.n_small_group_sent + s.n_small_meetings,
                              s.n_small_group_received + s.n_small_meetings)
                  / (s.n_small_group_sent + s.n_small_group_received + 2 * s.n_small_meetings)
        end as reciprocity,
        round(coalesce(s.total_weight, 0), 3) as total_weight,
        coalesce(s.decayed_weight, 0) as decayed_weight,
        coalesce(s.weight_at_last, 0) as weight_at_last,
        e.has_card
    from everyone as e
    left join summed as s using (person_id)
),

scored as (
    select
        m.*,
        -- Strength (0-100): recency-weighted intensity and intimacy (the decayed sum of weights,
        -- saturating), scaled by reciprocity and duration (up to two years).
        round(100 * (1 - exp(-m.decayed_weight / st.intensity_scale))
              * (0.6 + 0.3 * m.reciprocity + 0.1 * least(m.duration_days / 730.0, 1)), 1)
            as strength,
        round(100 * (1 - exp(-m.weight_at_last / st.intensity_scale))
              * (0.6 + 0.3 * m.reciprocity + 0.1 * least(m.duration_days / 730.0, 1)), 1)
            as strength_at_last_contact,
        floor((epoch(now()) - epoch(m.last_two_way_at)) / 86400)::integer as days_since_two_way,
        floor((epoch(now()) - epoch(m.last_interaction_at)) / 86400)::integer
            as days_since_last_interaction
    from measured as m
    cross join settings as st
),

final as (
    select
        sc.* exclude (has_card, weight_at_last)
            replace (round(sc.reciprocity, 3) as reciprocity,
                     round(sc.decayed_weight, 3) as decayed_weight),
        sc.last_two_way_at is not null as is_two_way,
        case
            when sc.last_two_way_at is not null then case
                when sc.days_since_two_way <= st.active_days
                     and sc.strength >= st.inner_circle_min_strength
                     and sc.n_months_with_contact_365d >= st.inner_circle_min_months
                    then 'inner_circle'
                when sc.days_since_two_way <= st.active_days then 'active'
                when sc.days_since_two_way <= st.cooling_days then 'cooling'
                else 'dormant'
            end
            -- only small-group contact tells a relationship; large meetings and group mail
            -- add to strength alone
            when sc.n_small_group_sent > 0 then 'unanswered'
            when sc.n_small_group_received > 0 then 'inbound_only'
            when sc.has_card then 'list_only'
            else 'seen_only'
        end as tier
    from scored as sc
    cross join settings as st
)

select * from final
