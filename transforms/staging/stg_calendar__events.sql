-- one row per current calendar event occurrence, with the meeting facts relationships use
with attendance as (
    select
        occurrence_key,
        count(*) filter (where is_person) as n_people,
        count(*) filter (where is_person and not is_owner) as n_other_people,
        bool_or(is_owner and is_organizer) as is_owner_organizer,
        max(partstat) filter (where is_owner) as owner_partstat,
        bool_or(is_owner) as is_owner_invited
    from stg_calendar__attendees
    group by occurrence_key
),

final as (
    select
        o.record_key as occurrence_key,
        o.uid,
        o.occurrence_id,
        o.start_at,
        o.end_at,
        o.start_tz,
        o.is_all_day,
        o.is_recurring,
        upper(coalesce(o.status, 'CONFIRMED')) as status,
        coalesce(a.n_people, 0) as n_people,
        coalesce(a.n_other_people, 0) as n_other_people,
        coalesce(a.is_owner_organizer, false) as is_owner_organizer,
        case when coalesce(a.is_owner_organizer, false) and a.owner_partstat is null
             then 'ACCEPTED' else a.owner_partstat end as owner_partstat,
        coalesce(a.is_owner_invited, false) as is_owner_invited,
        upper(coalesce(o.status, '')) <> 'CANCELLED'
            and coalesce(a.owner_partstat, '') <> 'DECLINED'
            and o.start_at <= now() as has_happened,
        o.summary,
        o.calendar,
        o.source_kind,
        o.source_uri,
        o.item,
        o.warnings
    from stg_calendar__occurrences as o
    left join attendance as a on a.occurrence_key = o.record_key
)

select * from final
