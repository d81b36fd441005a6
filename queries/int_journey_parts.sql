-- int_journey_parts: per anonymous id and the customer id its events carried, what the journey
-- funnel needs: first touch, first purchase, purchases, whether it considered (product_view,
-- search, search_no_results, add_to_cart) and whether it advocated (nps >= 9, a review with
-- csat >= 4, a social_interaction). Incremental: each night it adds up the night's rows of
-- int_daily_activity (a fifth of the events' rows), and readers combine rows with min, sum and or.
-- materialized: incremental
select
    anonymous_id,
    customer_id,
    min(first_touch_at) as first_touch_at,
    min(first_purchase_at) as first_purchase_at,
    sum(purchases) as purchases,
    bool_or(considered) as considered,
    bool_or(advocacy) as advocacy
from int_daily_activity
group by anonymous_id, customer_id
