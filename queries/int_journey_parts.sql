-- int_journey_parts: per anonymous id and the customer id its events carried, what the journey
-- funnel needs: first touch, first purchase, purchases, whether it considered (product_view,
-- search, search_no_results, add_to_cart) and whether it advocated (nps >= 9, a review with
-- csat >= 4, a social_interaction). Incremental: readers combine rows with min, sum and or.
-- materialized: incremental
select
    anonymous_id,
    customer_id,
    min(occurred_at) as first_touch_at,
    min(occurred_at) filter (where touchpoint = 'purchase') as first_purchase_at,
    count(*) filter (where touchpoint = 'purchase') as purchases,
    bool_or(touchpoint in ('product_view', 'search', 'search_no_results', 'add_to_cart')) as considered,
    coalesce(bool_or(
        nps >= 9
        or (touchpoint = 'review' and csat >= 4)
        or touchpoint = 'social_interaction'
    ), false) as advocacy
from touchpoints
group by anonymous_id, customer_id
