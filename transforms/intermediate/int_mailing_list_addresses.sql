-- one row per e-mail address that is a mailing list, not a person: the address a List-Id names (<dev.lists.example.org> is dev@lists.example.org), and any address list mail went to that never sent mail of its own
-- materialized: table
-- moves the people of: email
-- (a table that moves people: a message can make an address a list, or show that it is
-- someone, and `interactions` then computes again only the people of the addresses that moved)
with messages as (
    select message_key, from_email, list_id, is_automated
    from stg_mail__messages
),

participants as (
    select message_key, role, email, is_owner
    from stg_mail__participants
    where role in ('to', 'cc')
),

final as (
    select lower(regexp_replace(
        coalesce(nullif(regexp_extract(list_id, '<([^>]+)>', 1), ''), trim(list_id)), '\.', '@'))
        as email
    from messages
    where list_id is not null
    union
    (
        select p.email
        from participants as p
        join messages as m using (message_key)
        where m.list_id is not null and not p.is_owner
        except
        select from_email
        from messages
        where not is_automated and from_email is not null
    )
)

select * from final
