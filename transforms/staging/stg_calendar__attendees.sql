-- one row per current event occurrence and person invited to it (organiser included)
-- materialized: table
-- (a table: four models read it, and finding the current occurrences takes a window over them all)
with invited as (
    select record_key, unnest(attendees) as person, false as is_organizer
    from stg_calendar__occurrences
    union all
    select record_key, organizer, true
    from stg_calendar__occurrences
    where organizer is not null
),

final as (
    select
        record_key as occurrence_key,
        person.normalized as email,
        -- an address written where the name goes (Google Calendar's CN=<address>, mail
        -- clients' "a@b.example" <a@b.example>) is no name
        any_value(nullif(trim(person.name), '')) filter (where not contains(person.name, '@'))
            as display_name,
        bool_or(is_organizer) as is_organizer,
        -- the organiser's own line decides when both are there
        coalesce(max(upper(person.partstat)) filter (where not is_organizer),
                 max(upper(person.partstat))) as partstat,
        max(upper(person.role)) as role,
        coalesce(max(upper(person.cutype)), 'INDIVIDUAL') as cutype,
        coalesce(max(upper(person.cutype)), 'INDIVIDUAL') in ('INDIVIDUAL', 'UNKNOWN')
            as is_person,
        person.normalized in (select address from owner_addresses) as is_owner
    from invited
    where person.normalized is not null
    group by record_key, person.normalized
)

select * from final
