-- int_events: one row per valid event with the stitched identity every metric uses.
--   customer_id: the event's own customer_id, else the customer its anonymous_id belongs to
--                (int_identities), else null (a prospect);
--   person_id:   the customer, or for prospects the anonymous id (for the journey funnel);
--   is_active:   counts as activity (everything but ad_impression and email_open).
-- Not read by the core models (they read the compact incremental models); there for analysts.
-- materialized: view
select
    t.event_id,
    t.occurred_at,
    t.event_date,
    t.anonymous_id,
    coalesce(t.customer_id, i.customer_id) as customer_id,
    case
        when coalesce(t.customer_id, i.customer_id) is not null
            then 'customer:' || coalesce(t.customer_id, i.customer_id)
        else 'anonymous:' || t.anonymous_id
    end as person_id,
    t.channel,
    t.touchpoint,
    t.touchpoint not in ('ad_impression', 'email_open') as is_active,
    t.session_id,
    t.revenue,
    t.nps,
    t.csat,
    t.ces,
    t.comment,
    t.duration_s,
    t.country
from touchpoints as t
left join int_identities as i on t.anonymous_id = i.anonymous_id
