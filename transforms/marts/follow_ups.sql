-- one row per card import tag and person on its cards: whether there was any interaction since they were met
with tagged as (
    select
        t.tag,
        ids.person_id,
        -- as the cards themselves say: what the owner saw that evening
        arg_min(c.display_name, c.card_id) as display_name,
        arg_min(c.org, c.card_id) filter (where c.org is not null) as organisation,
        arg_min(c.emails[1].normalized, c.card_id) filter (where len(c.emails) > 0) as email,
        count(distinct t.record_key) as n_cards,
        min(t.tagged_at) as tagged_at
    from record_tags as t
    join stg_contacts__cards as c on c.card_id = t.record_key
    join person_ids as ids on ids.record_key = 'card:' || t.record_key
    group by t.tag, ids.person_id
),

-- Met on the date the tag names ("Chamber mixer 2026-11-20"), else when the cards were imported.
dated as (
    select
        *,
        try_cast(nullif(regexp_extract(tag, '(\d{4}-\d{2}-\d{2})', 1), '') as date) as met_on
    from tagged
),

final as (
    select
        d.tag,
        d.person_id,
        d.display_name,
        d.organisation,
        d.email,
        d.n_cards,
        d.met_on,
        least(d.met_on::timestamptz, d.tagged_at) as met_at,
        d.tagged_at,
        -- the last interaction is after they were met exactly when some interaction is
        coalesce(r.last_interaction_at >= least(d.met_on::timestamptz, d.tagged_at), false)
            as is_followed_up,
        r.last_interaction_at,
        r.tier,
        r.strength
    from dated as d
    join relationships as r on r.person_id = d.person_id
)

select * from final
