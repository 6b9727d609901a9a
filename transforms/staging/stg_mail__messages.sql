-- one row per e-mail message, with the facts relationships are built from
-- materialized: table
-- incremental: messages by message_key
-- (a table: `interactions` and `acquaintances` both read it, and threading costs seconds)
-- Two plain aggregates rather than one with count(distinct): DuckDB cannot spill distinct
-- aggregates, and over a million messages they outgrew the build's memory limit.
with addresses as (
    select
        message_key,
        email,
        any_value(is_owner) as is_owner,
        bool_or(role = 'from') as is_from,
        bool_or(role in ('from', 'sender')) as is_from_or_sender,
        bool_or(role = 'to') as is_to,
        bool_or(role in ('cc', 'bcc')) as is_cc,
        bool_or(role in ('to', 'cc', 'bcc')) as is_recipient
    from stg_mail__participants
    group by message_key, email
),

participants as (
    select
        message_key,
        bool_or(is_owner and is_from_or_sender) as is_from_owner,
        bool_or(is_owner and is_to) as is_owner_in_to,
        bool_or(is_owner and is_cc) as is_owner_in_cc,
        count(*) filter (where is_recipient and not is_owner) as n_other_recipients,
        count(*) filter (where is_recipient) as n_recipients,
        -- the From address (the first, when there are several), else any other
        coalesce(min(email) filter (where is_from), min(email)) as from_email
    from addresses
    group by message_key
),

-- The thread root: X-GM-THRID when Gmail gave one, else the top of the chain of parents, where
-- a message's parent is the first References id (the root, by RFC 5322) or its In-Reply-To;
-- following parents also joins messages whose References list only their direct parent.
parents as (
    select record_key as message_key, 'mid:' || coalesce(reference_ids[1], in_reply_to) as parent_key
    from raw_messages
    where reference_ids[1] is not null or in_reply_to is not null
),

chains as (
    with recursive walk(message_key, ancestor_key, depth) as (
        select message_key, parent_key, 1 from parents
        union all
        select walk.message_key, parents.parent_key, walk.depth + 1
        from walk
        join parents on parents.message_key = walk.ancestor_key
        where walk.depth < 100
    )
    select message_key, arg_max(ancestor_key, depth) as root_key
    from walk
    group by message_key
),

classified as (
    select
        m.*,
        p.from_email,
        lower(split_part(coalesce(p.from_email, ''), '@', 1)) as from_local_part,
        case
            when m.list_id is not null then 'List-Id header'
            when m.list_unsubscribe is not null then 'List-Unsubscribe header'
            when lower(trim(m.precedence)) in ('bulk', 'list', 'junk')
                then 'Precedence: ' || lower(trim(m.precedence))
            when m.auto_submitted is not null and lower(trim(m.auto_submitted)) <> 'no'
                then 'Auto-Submitted: ' || lower(trim(m.auto_submitted))
            when trim(coalesce(m.return_path, '')) = '<>' then 'bounce (empty Return-Path)'
            when regexp_matches(lower(split_part(coalesce(p.from_email, ''), '@', 1)),
                                -- also as the last word: messages-noreply@, billing-noreply@
                                '^([a-z0-9]+[-_.])*(mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply'
                                || '|notifications?|notify|alerts?|bounces?|news(letter)?'
                                || '|automated|auto-?confirm|system|daemon)([-+._].*)?$')
                then 'automated sender: ' || p.from_email
        end as automated_reason,
        p.is_from_owner,
        p.is_owner_in_to,
        p.is_owner_in_cc,
        p.n_recipients,
        p.n_other_recipients,
        c.root_key
    from raw_messages as m
    left join participants as p on p.message_key = m.record_key
    left join chains as c on c.message_key = m.record_key
),

final as (
    select
        record_key as message_key,
        message_id,
        has_message_id,
        sent_at,
        from_email,
        case
            when coalesce(is_from_owner, false) then 'sent'
            when coalesce(is_owner_in_to, false) or coalesce(is_owner_in_cc, false)
                then 'received'
            else 'neither'
        end as direction,
        coalesce(n_recipients, 0) as n_recipients,
        coalesce(n_other_recipients, 0) as n_other_recipients,
        coalesce(is_owner_in_to, false) as is_owner_in_to,
        coalesce(is_owner_in_cc, false) and not coalesce(is_owner_in_to, false)
            as is_owner_only_cc,
        coalesce('gm:' || gmail_thread_id, root_key, record_key) as thread_id,
        case when in_reply_to is not null then 'mid:' || in_reply_to end as reply_to_message_key,
        automated_reason is not null as is_automated,
        automated_reason,
        list_id,
        subject,
        source_kind,
        source_uri,
        folder,
        load_id
    from classified
)

select * from final
