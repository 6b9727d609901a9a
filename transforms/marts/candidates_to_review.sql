-- one row per pair of people that may be one person and wait for your decision, in the order `kith review` asks: pairs where someone has interactions with you first, then LinkedIn connections, then the rest
-- merge_candidates can hold a pair of people more than once (by different records), and pairs
-- you have decided on already: a `kith review` reject or a `kith split` keeps them apart; a
-- merge the resolver refused (a person past 60 records) stays refused. Those are left out here.
-- The score only orders pairs within a priority: its scale is the resolver's business.
with latest_rules as (
    -- a later decision about the same records replaces an earlier one, as the resolver reads them
    select least(record_a, record_b) as record_1, greatest(record_a, record_b) as record_2,
           arg_max(decision, rule_id) as decision
    from identity_rules
    group by all
),

decided as (
    select distinct
        least(ids_1.person_id, ids_2.person_id) as person_a,
        greatest(ids_1.person_id, ids_2.person_id) as person_b
    from latest_rules
    join person_ids as ids_1 on ids_1.record_key = latest_rules.record_1
    join person_ids as ids_2 on ids_2.record_key = latest_rules.record_2
    where ids_1.person_id <> ids_2.person_id
),

pairs as (
    select
        least(person_a, person_b) as person_a,
        greatest(person_a, person_b) as person_b,
        case when person_a < person_b then record_a else record_b end as record_a,
        case when person_a < person_b then record_b else record_a end as record_b,
        score,
        evidence
    from merge_candidates
    where person_a <> person_b
    -- the best-scored pair of records stands for the pair of people
    qualify row_number() over (partition by least(person_a, person_b),
                                            greatest(person_a, person_b)
                               order by score desc, record_a, record_b) = 1
),

waiting as (
    select
        pairs.*,
        coalesce(rel_a.n_interactions, 0) as n_interactions_a,
        coalesce(rel_b.n_interactions, 0) as n_interactions_b,
        coalesce(people_a.is_linkedin_connection, false) as is_linkedin_a,
        coalesce(people_b.is_linkedin_connection, false) as is_linkedin_b
    from pairs
    anti join decided using (person_a, person_b)
    left join relationships as rel_a on rel_a.person_id = pairs.person_a
    left join relationships as rel_b on rel_b.person_id = pairs.person_b
    left join people as people_a on people_a.person_id = pairs.person_a
    left join people as people_b on people_b.person_id = pairs.person_b
),

prioritised as (
    select
        *,
        case
            when n_interactions_a > 0 or n_interactions_b > 0 then 'interactions'
            when is_linkedin_a or is_linkedin_b then 'linkedin'
            else 'other'
        end as priority
    from waiting
)

select
    row_number() over (
        order by case priority when 'interactions' then 1 when 'linkedin' then 2 else 3 end,
                 score desc, n_interactions_a + n_interactions_b desc, person_a, person_b
    ) as review_rank,
    priority,
    person_a,
    person_b,
    record_a,
    record_b,
    score,
    evidence,
    n_interactions_a,
    n_interactions_b,
    is_linkedin_a,
    is_linkedin_b
from prioritised
order by review_rank
