-- one row per pair of people (the owner left out) who were on the same small e-mail messages or meetings of the owner's: how often, how recently, and a tie strength 0-100
-- materialized: table
-- The owner's mail and calendar show only what the owner was on: two people who write to each
-- other every day without the owner are not here.
with settings as (
    select * from relationship_settings
),

-- two people on one small message or meeting (see int_people_together)
together as (
    select * from int_people_together
),

-- How much of the owner's group life each person is on. Someone on nearly every small thread
-- and meeting (a shared assistant, a team alias) is together with everyone and says little
-- about any one of them: `introductions` damps them by this share. The +1 keeps the only
-- thread of a small mailbox from damping its people to nothing.
presence as (
    select
        person_id,
        count(*) / ((select count(distinct occasion_key) from together) + 1.0) as group_share
    from (
        select person_a_id as person_id, occasion_key from together
        union
        select person_b_id, occasion_key from together
    )
    group by person_id
),

summed as (
    select
        t.person_a_id,
        t.person_b_id,
        count(*) filter (where t.channel = 'email') as n_emails,
        count(*) filter (where t.is_from_a) as n_emails_from_a,
        count(*) filter (where t.is_from_b) as n_emails_from_b,
        count(*) filter (where t.channel = 'meeting') as n_meetings,
        min(t.together_at) as first_together_at,
        max(t.together_at) as last_together_at,
        -- as in `interactions` and `relationships`: an e-mail neither of them sent (both only
        -- copied) counts cc_weight, attention is shared among everyone else there, and it
        -- counts half as much every half_life_days
        sum(case when t.channel = 'meeting' then s.meeting_weight
                 when t.is_from_a or t.is_from_b then 1.0
                 else s.cc_weight end
            / sqrt(t.n_people - 1)
            * pow(0.5, greatest(epoch(now()) - epoch(t.together_at), 0)
                       / 86400.0 / s.half_life_days)) as decayed_weight
    from together as t
    cross join settings as s
    group by t.person_a_id, t.person_b_id
),

-- apart from `summed`, and without count(distinct): DuckDB cannot spill distinct aggregates
pair_threads as (
    select person_a_id, person_b_id, count(*) as n_threads
    from (select distinct person_a_id, person_b_id, occasion_key
          from together
          where channel = 'email')
    group by person_a_id, person_b_id
),

measured as (
    select
        s.*,
        coalesce(pt.n_threads, 0) as n_threads,
        -- 1 when each wrote as much as the other (a meeting counts both ways), 0 when one only
        case when n_emails_from_a + n_emails_from_b + n_meetings = 0 then 0.0
             else 2.0 * least(n_emails_from_a + n_meetings, n_emails_from_b + n_meetings)
                  / (n_emails_from_a + n_emails_from_b + 2 * n_meetings)
        end as reciprocity,
        floor((epoch(last_together_at) - epoch(first_together_at)) / 86400)::integer
            as duration_days
    from summed as s
    left join pair_threads as pt using (person_a_id, person_b_id)
),

final as (
    select
        m.person_a_id,
        m.person_b_id,
        m.n_threads,
        m.n_emails,
        m.n_emails_from_a,
        m.n_emails_from_b,
        m.n_meetings,
        m.first_together_at,
        m.last_together_at,
        floor((epoch(now()) - epoch(m.last_together_at)) / 86400)::integer
            as days_since_together,
        round(m.reciprocity, 3) as reciprocity,
        round(m.decayed_weight, 3) as decayed_weight,
        -- the formula of `relationships`' strength
        round(100 * (1 - exp(-m.decayed_weight / s.intensity_scale))
              * (0.6 + 0.3 * m.reciprocity + 0.1 * least(m.duration_days / 730.0, 1)), 1)
            as strength,
        round(pa.group_share, 3) as person_a_group_share,
        round(pb.group_share, 3) as person_b_group_share
    from measured as m
    cross join settings as s
    join presence as pa on pa.person_id = m.person_a_id
    join presence as pb on pb.person_id = m.person_b_id
)

select * from final
