-- one row per cooling relationship, the strongest it was first: people worth writing to again
with cooling as (
    select *
    from relationships
    where tier = 'cooling'
),

final as (
    select
        row_number() over (
            order by c.strength_at_last_contact desc, c.last_interaction_at desc, c.person_id
        ) as reconnect_rank,
        c.person_id,
        p.display_name,
        p.primary_email,
        p.organisation,
        c.strength_at_last_contact,
        c.strength,
        c.last_interaction_at,
        c.last_channel,
        c.last_two_way_at,
        c.days_since_two_way,
        c.n_interactions,
        c.n_months_with_contact
    from cooling as c
    join people as p on p.person_id = c.person_id
)

select * from final
