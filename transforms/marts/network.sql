-- one row per person (the owner left out): who they are, the lists they are on, and the relationship with its strength and tier
with final as (
    select
        p.person_id,
        p.display_name,
        p.primary_email,
        p.organisation,
        p.title,
        p.lists,
        r.* exclude (person_id)
    from people as p
    join relationships as r on r.person_id = p.person_id
)

select * from final
