-- one row per organisation (names on cards and mail domains resolved together): the people kith knows there, how many with two-way contact, the strongest tie and when it was last active
-- materialized: table
with members as (
    select * from int_organisation_members
),

handles as (
    select
        organisation_key,
        list_sort(list(handle) filter (where kind = 'name')) as names,
        list_sort(list(handle) filter (where kind = 'domain')) as domains
    from organisation_handles
    group by organisation_key
),

scores as (
    select person_id, tier, strength, is_two_way, last_interaction_at, last_two_way_at
    from relationships
    where person_id in (select person_id from members)
),

counted as (
    select
        m.organisation_key,
        any_value(m.organisation) as organisation,
        count(*) as n_people,
        count(*) filter (where s.is_two_way) as n_two_way,
        count(*) filter (where s.tier in ('inner_circle', 'active')) as n_active,
        coalesce(max(s.strength), 0) as strongest_strength,
        arg_max(m.person_id, (coalesce(s.strength, 0), -m.person_id)) as strongest_person_id,
        max(s.last_two_way_at) as last_two_way_at,
        max(s.last_interaction_at) as last_interaction_at
    from members as m
    left join scores as s using (person_id)
    group by m.organisation_key
),

final as (
    select
        c.organisation_key,
        c.organisation,
        coalesce(h.names, []) as names,
        coalesce(h.domains, []) as domains,
        c.n_people,
        c.n_two_way,
        c.n_active,
        c.strongest_person_id,
        p.display_name as strongest_name,
        s.tier as strongest_tier,
        c.strongest_strength,
        c.last_two_way_at,
        c.last_interaction_at
    from counted as c
    left join handles as h using (organisation_key)
    left join people as p on p.person_id = c.strongest_person_id
    left join scores as s on s.person_id = c.strongest_person_id
)

select * from final
