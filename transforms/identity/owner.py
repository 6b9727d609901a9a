"""Suggesting the owner's own addresses from their mail, and their names in chats, for
`kith owner --suggest`."""

from __future__ import annotations

import duckdb

# Folder names mail clients give to sent mail (IMAP, Thunderbird, Outlook, Apple, localised).
SENT_FOLDERS = ("sent", "sent mail", "sent items", "sent messages", "[gmail]/sent mail",
                "inbox.sent", "gesendet", "gesendete elemente", "envoyés", "éléments envoyés",
                "enviados", "elementos enviados", "inviata", "posta inviata", "verzonden")


def suggest_owner_addresses(con: duckdb.DuckDBPyConnection, limit: int = 5) -> list[tuple]:
    """(address, n_messages, evidence) for the addresses most likely the owner's: the senders
    of mail seen in a Sent folder (or with Gmail's Sent label); without any, the addresses in
    the most messages, since the owner is in almost every message of their own mailbox."""
    sent = con.execute("""
        with sent as (
            select distinct record_key from message_sightings
            -- an mbox has no folder: its file name is one (Thunderbird's Sent, Sent.mbox)
            where lower(coalesce(folder, regexp_replace(url_decode(regexp_extract(
                      source_uri, '[^/]+$')), '[.](mbox|mbx)$', ''))) in (select unnest(?))
               or lower(coalesce(folder, '')) like '%/sent%'
               or list_contains(gmail_labels, 'Sent')
        )
        select p.email, count(distinct p.message_key) as n, 'sends mail in Sent' as evidence
        from stg_mail__participants as p
        where p.role = 'from' and p.message_key in (select record_key from sent)
        group by p.email
        order by n desc, p.email
        limit ?
    """, [list(SENT_FOLDERS), limit]).fetchall()
    if sent:
        return sent
    return con.execute("""
        select email, count(distinct message_key) as n,
               'in ' || round(100.0 * count(distinct message_key)
                              / (select count(*) from raw_messages))::int || '% of messages'
        from stg_mail__participants
        group by email
        having count(distinct message_key) >= 0.2 * (select count(*) from raw_messages)
        order by n desc, email
        limit ?
    """, [limit]).fetchall()


def suggest_owner_chat_names(con: duckdb.DuckDBPyConnection, limit: int = 5) -> list[tuple]:
    """(platform, name, n_chats, n_chats_on_platform) for the senders in the most chats of each
    platform: the owner is in every chat of their own export. Only platforms with two chats or
    more (in one chat everyone is in every chat)."""
    return con.execute("""
        with senders as (
            select platform, sender, any_value(coalesce(sender_name, sender)) as name,
                   count(distinct chat_id) as n_chats
            from stg_chat__messages
            where sender is not null and is_counted
            group by all
        ),
        platforms as (
            select platform, count(distinct chat_id) as n_all
            from stg_chat__messages
            group by platform
        )
        select s.platform, s.name, s.n_chats, p.n_all
        from senders as s
        join platforms as p using (platform)
        where p.n_all >= 2 and s.n_chats >= 2
        qualify row_number() over (partition by s.platform order by s.n_chats desc, s.name)
                <= ?
        order by s.platform, s.n_chats desc, s.name
    """, [limit]).fetchall()
