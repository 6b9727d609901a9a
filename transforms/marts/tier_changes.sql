-- one row per person whose tier changed at the latest tier snapshot, with the tier before and after
with snapshots as (
    select max(snapshot_id) as latest_id, min(snapshot_id) as first_id
    from tier_snapshots
),

-- The first snapshot holds everyone: a change needs an earlier snapshot to change from.
final as (
    select
        t.snapshot_id,
        t.taken_at as changed_at,
        t.person_id,
        p.display_name,
        p.organisation,
        coalesce(t.previous_tier, 'new') as previous_tier,
        t.tier
    from tier_snapshots as t
    join snapshots as s on t.snapshot_id = s.latest_id and s.latest_id > s.first_id
    left join people as p on p.person_id = t.person_id
)

select * from final
