-- one row per person and path to them: the owner's own two-way tie, or an introducer (inner circle, active or cooling) who was on small threads or meetings with them
-- materialized: table
-- (a table: `kith intro` answers at once; scores are as of the last build)
with owner as (
    select owner_person_id as person_id
    from identity_builds
    order by build_id desc
    limit 1
),

scores as materialized (
    select
        person_id, tier, strength, is_two_way, n_emails, n_meetings, first_interaction_at,
        last_interaction_at
    from relationships
),

-- `people` is costly on a large mailbox: read once
names as materialized (
    select person_id, display_name
    from people
),

known_at as (
    select person_id, list_sort(list_distinct(list(organisation))) as employers
    from int_organisation_members
    group by person_id
),

direct as (
    select
        s.person_id as target_person_id,
        true as is_direct,
        coalesce((select person_id from owner), 0) as introducer_person_id,
        null::varchar as introducer_tier,
        null::double as introducer_strength,
        s.tier as target_tier,
        s.strength as tie_strength,
        null::bigint as n_threads,
        s.n_emails,
        s.n_meetings,
        s.first_interaction_at as first_together_at,
        s.last_interaction_at as last_together_at,
        null::double as introducer_group_share,
        s.strength as score
    from scores as s
    where s.is_two_way
),

-- each acquaintance, once from either side
pairs as (
    select person_a_id as introducer_person_id, person_b_id as target_person_id,
        person_a_group_share as introducer_group_share, *
    from acquaintances
    union all
    select person_b_id, person_a_id, person_b_group_share, *
    from acquaintances
),

-- Ranked by the product of the owner's tie to the introducer and theirs to the target, damped
-- by the share of the owner's small threads and meetings the introducer is on (see
-- acquaintances): an assistant on all of them is no introducer to everyone.
introducers as (
    select
        p.target_person_id,
        false as is_direct,
        p.introducer_person_id,
        i.tier as introducer_tier,
        i.strength as introducer_strength,
        t.tier as target_tier,
        p.strength as tie_strength,
        p.n_threads,
        p.n_emails,
        p.n_meetings,
        p.first_together_at,
        p.last_together_at,
        p.introducer_group_share,
        round(i.strength * p.strength / 100 * (1 - p.introducer_group_share), 1) as score
    from pairs as p
    join scores as i on i.person_id = p.introducer_person_id
    left join scores as t on t.person_id = p.target_person_id
    -- no cut-off by age: old evidence counts less by the half-life of acquaintances.strength
    where i.tier in ('inner_circle', 'active', 'cooling')
),

paths as (
    select * from direct
    union all
    select * from introducers
),

final as (
    select
        p.target_person_id,
        tp.display_name as target_name,
        coalesce(k.employers, []) as target_organisations,
        p.target_tier,
        p.is_direct,
        p.introducer_person_id,
        case when p.is_direct then 'you' else ip.display_name end as introducer_name,
        p.introducer_tier,
        p.introducer_strength,
        p.tie_strength,
        p.n_threads,
        p.n_emails,
        p.n_meetings,
        p.first_together_at,
        p.last_together_at,
        p.introducer_group_share,
        p.score,
        case
            when p.is_direct then format('you: {} with {}, last {}', p.target_tier,
                                         tp.display_name || coalesce(' at ' || k.employers[1], ''),
                                         strftime(p.last_together_at, '%-d %b %Y'))
            else format('{} ({}, {}): {} with {} since {}, last {}',
                        ip.display_name, p.introducer_tier, round(p.introducer_strength)::integer,
                        concat_ws(' and ',
                                  case when p.n_threads > 0 then p.n_threads
                                       || if(p.n_threads = 1, ' thread', ' threads') end,
                                  case when p.n_meetings > 0 then p.n_meetings
                                       || if(p.n_meetings = 1, ' meeting', ' meetings') end),
                        tp.display_name || coalesce(' (' || k.employers[1] || ')', ''),
                        strftime(p.first_together_at, '%b %Y'),
                        strftime(p.last_together_at, '%-d %b %Y'))
        end as evidence
    from paths as p
    join names as tp on tp.person_id = p.target_person_id
    left join names as ip on ip.person_id = p.introducer_person_id
    left join known_at as k on k.person_id = p.target_person_id
)

select * from final
