"""Suggesting the owner's own addresses from their mail, for `kith owner --suggest`."""

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
