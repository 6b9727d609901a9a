-- one row per e-mail message, header role (from, sender, reply_to, to, cc, bcc) and address
-- materialized: table
-- incremental: messages by message_key
-- (a table: five models read it, and unnesting every header of every message costs seconds)
with roles as (
    select record_key, 'from' as role, unnest(from_addrs) as mailbox from raw_messages
    union all
    select record_key, 'sender', unnest(sender_addrs) from raw_messages
    union all
    select record_key, 'reply_to', unnest(reply_to_addrs) from raw_messages
    union all
    select record_key, 'to', unnest(to_addrs) from raw_messages
    union all
    select record_key, 'cc', unnest(cc_addrs) from raw_messages
    union all
    select record_key, 'bcc', unnest(bcc_addrs) from raw_messages
),

final as (
    select
        record_key as message_key,
        role,
        mailbox.normalized as email,
        -- an address written where the name goes (Google Calendar's CN=<address>, mail
        -- clients' "a@b.example" <a@b.example>) is no name
        any_value(nullif(trim(mailbox.name), '')) filter (where not contains(mailbox.name, '@'))
            as display_name,
        email in (select address from owner_addresses) as is_owner
    from roles
    where mailbox.normalized is not null
    group by all
)

select * from final
