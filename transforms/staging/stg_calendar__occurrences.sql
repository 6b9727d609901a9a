-- one row per calendar event occurrence as its source holds it now (current version)
with latest_items as (
    -- what each calendar file / CalDAV resource held at its latest load
    select *
    from event_items
    qualify row_number() over (partition by source_uri, item order by load_id desc) = 1
),

current_keys as (
    select load_id, unnest(occurrences) as occurrence
    from latest_items
    where not is_deleted
),

final as (
    select e.*
    from current_keys as c
    join raw_events as e
        on e.record_key = c.occurrence.record_key
        and e.record_hash = c.occurrence.record_hash
    -- the same occurrence in two sources (a file and a CalDAV calendar): the latest load wins
    qualify row_number() over (partition by e.record_key order by c.load_id desc) = 1
)

select * from final
