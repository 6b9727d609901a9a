-- one row per connection invitation sent or received on a social platform
with final as (
    select
        record_key as invitation_key,
        platform,
        direction,
        other_name,
        other_profile,
        sent_at,
        source_uri,
        load_id
    from raw_social_invitations
)

select * from final
