-- one row per e-mail message, with the facts relationships are built from
-- materialized: table
-- incremental: messages by message_key
-- (a table: `interactions` and `acquaintances` both read it, and threading costs seconds)
-- Each message's facts come from its own header lists (no aggregate, no join over the
-- participants of every message: past a million messages those outgrew the build's memory
-- limit and spilled, and the build slowed more than in proportion).
with headers as (
    select
        *,
        list_filter(list_transform(from_addrs, a -> a.normalized), e -> e is not null)
            as from_emails,
        list_filter(list_transform(sender_addrs, a -> a.normalized), e -> e is not null)
            as sender_emails,
        list_filter(list_transform(reply_to_addrs, a -> a.normalized), e -> e is not null)
            as reply_to_emails,
        list_filter(list_transform(to_addrs, a -> a.normalized), e -> e is not null)
            as to_emails,
        list_filter(list_transform(cc_addrs || bcc_addrs, a -> a.normalized), e -> e is not null)
            as cc_emails,
        (select coalesce(list(address), []::varchar[]) from owner_addresses) as owner_emails
    from raw_messages
),

participants as (
    select
        *,
        list_has_any(from_emails || sender_emails, owner_emails) as is_from_owner,
        list_has_any(to_emails, owner_emails) as is_owner_in_to,
        list_has_any(cc_emails, owner_emails) as is_owner_in_cc,
        len(list_filter(list_distinct(to_emails || cc_emails),
                        e -> not list_contains(owner_emails, e))) as n_other_recipients,
        len(list_distinct(to_emails || cc_emails)) as n_recipients,
        -- the From address (the first, when there are several), else any other
        coalesce(list_min(from_emails),
                 list_min(from_emails || sender_emails || reply_to_emails || to_emails
                          || cc_emails)) as from_email
    from headers
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
        lower(split_part(coalesce(m.from_email, ''), '@', 1)) as from_local_part,
        case
            when m.list_id is not null then 'List-Id header'
            when m.list_unsubscribe is not null then 'List-Unsubscribe header'
            when lower(trim(m.precedence)) in ('bulk', 'list', 'junk')
                then 'Precedence: ' || lower(trim(m.precedence))
            when m.auto_submitted is not null and lower(trim(m.auto_submitted)) <> 'no'
                then 'Auto-Submitted: ' || lower(trim(m.auto_submitted))
            when trim(coalesce(m.return_path, '')) = '<>' then 'bounce (empty Return-Path)'
            when regexp_matches(lower(split_part(coalesce(m.from_email, ''), '@', 1)),
                                -- also as the last word: messages-noreply@, billing-noreply@
                                '^([a-z0-9]+[-_.])*(mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply'
                                || '|notifications?|notify|alerts?|bounces?|news(letter)?'
                                || '|automated|auto-?confirm|system|daemon)([-+._].*)?$')
                then 'automated sender: ' || m.from_email
        end as automated_reason,
        c.root_key
    from participants as m
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
