-- one row per list the owner's contacts are on (LinkedIn, Facebook, Instagram, X, each card tag, the address book, CardDAV) and one for everyone, after a warning row when mail or chats cannot be read as sent or received
-- (cheap checks: staging all mail again would cost as much as the rest)
with mail_check as (
    select
        (select count(*) from owner_addresses) as n_owner_addresses,
        (select count(*) from stg_calendar__events) as n_events,
        (select count(*) from raw_messages) as n_messages,
        (select count(*) from (select 1 from stg_mail__participants where is_owner limit 1))
            as n_owner_messages
),

warning as (
    select
        0 as position,
        'warning' as kind,
        'owner address' as list_name,
        case
            when n_owner_addresses = 0 then format(
                'No owner address configured: kith cannot tell which of {:,} e-mails you sent '
                || 'or received, nor which of {:,} calendar events you attended, so none counts '
                || 'as an interaction. Run `kith owner you@example.com` (or set [owner] emails '
                || 'in kith.toml).',
                n_messages, n_events)
            else format(
                'None of {:,} e-mails is from or to your owner addresses: check them with '
                || '`kith owner` and add the ones you write from (`kith owner you@example.com`).',
                n_messages)
        end as summary
    from mail_check
    where (n_owner_addresses = 0 and n_messages + n_events > 0)
        or (n_messages > 0 and n_owner_messages = 0)
),

-- chat messages whose sender kith cannot tell apart from the owner count for nothing
chat_warning as (
    select
        0 as position,
        'warning' as kind,
        'owner in chats' as list_name,
        format('kith cannot tell which of {:,} chat messages ({}) are yours, so none of them '
               || 'counts. Run `kith owner --suggest`, then `kith owner --name "Your Name"` '
               || '(or set [owner] names in kith.toml).',
               count(*), string_agg(distinct platform, ', ' order by platform)) as summary
    from stg_chat__messages
    where direction = 'unknown' and is_counted
    having count(*) > 0
),

-- relationships and people are each read once: both are costly on a large mailbox
scores as materialized (
    select person_id, tier, is_two_way, n_interactions, last_interaction_at
    from relationships
),

members as (
    select person_id, unnest(lists) as list_name
    from people
    where not is_owner
    union all
    select person_id, 'everyone'
    from scores
),

-- followed up: any interaction since they were met (the rule of follow_ups)
met as (
    select
        'cards: ' || t.tag as list_name,
        ids.person_id,
        least(try_cast(nullif(regexp_extract(t.tag, '(\d{4}-\d{2}-\d{2})', 1), '') as date)
                  ::timestamptz,
              min(t.tagged_at)) as met_at
    from record_tags as t
    join person_ids as ids on ids.record_key = 'card:' || t.record_key
    group by t.tag, ids.person_id
),

followed as (
    select
        met.list_name,
        count(*) filter (where s.last_interaction_at >= met.met_at) as n_followed_up
    from met
    join scores as s using (person_id)
    group by met.list_name
),

counted as (
    select
        m.list_name,
        count(*) as n_people,
        count(*) filter (where r.n_interactions > 0) as n_with_interaction,
        count(*) filter (where r.is_two_way) as n_two_way,
        count(*) filter (where r.tier = 'inner_circle') as n_inner_circle,
        count(*) filter (where r.tier = 'active') as n_active,
        count(*) filter (where r.tier = 'cooling') as n_cooling,
        count(*) filter (where r.tier = 'dormant') as n_dormant,
        count(*) filter (where r.tier = 'unanswered') as n_unanswered,
        count(*) filter (where r.tier = 'inbound_only') as n_inbound_only,
        count(*) filter (where r.tier = 'list_only') as n_list_only,
        count(*) filter (where r.tier = 'seen_only') as n_seen_only
    from members as m
    join scores as r using (person_id)
    group by m.list_name
),

lists as (
    select
        case
            when c.list_name in ('LinkedIn', 'Facebook', 'Instagram', 'X') then 1
            when c.list_name like 'cards: %' then 2
            when c.list_name = 'address book' then 3
            when c.list_name = 'CardDAV' then 4
            else 5
        end as position,
        case when c.list_name = 'everyone' then 'everyone' else 'list' end as kind,
        c.*,
        f.n_followed_up,
        round(100.0 * c.n_two_way / c.n_people, 1) as pct_two_way
    from counted as c
    left join followed as f using (list_name)
),

described as (
    select
        position,
        kind,
        list_name,
        n_people,
        n_with_interaction,
        n_two_way,
        pct_two_way,
        n_inner_circle,
        n_active,
        n_cooling,
        n_dormant,
        n_unanswered,
        n_inbound_only,
        n_list_only,
        n_seen_only,
        n_followed_up,
        case
            when list_name = 'LinkedIn' then format(
                'LinkedIn: {:,} connections, {:,} with two-way contact ({}%), {:,} active',
                n_people, n_two_way, pct_two_way, n_inner_circle + n_active)
            when list_name in ('Facebook', 'Instagram', 'X') then format(
                '{}: {:,} friends or followers, {:,} with two-way contact ({}%), {:,} active',
                list_name, n_people, n_two_way, pct_two_way, n_inner_circle + n_active)
            when list_name like 'cards: %' then format(
                'cards tagged ''{}'': {:,} people, {:,} followed up ({}%)',
                substr(list_name, 8), n_people, n_followed_up,
                round(100.0 * n_followed_up / n_people, 1))
            when list_name = 'everyone' then format(
                'everyone: {:,} people, {:,} with two-way contact ({}%), {:,} active',
                n_people, n_two_way, pct_two_way, n_inner_circle + n_active)
            else format(
                '{}: {:,} people, {:,} with two-way contact ({}%), {:,} active',
                list_name, n_people, n_two_way, pct_two_way, n_inner_circle + n_active)
        end as summary
    from lists
),

final as (
    select * from described
    union all by name
    select * from warning
    union all by name
    select * from chat_warning
)

select * from final
