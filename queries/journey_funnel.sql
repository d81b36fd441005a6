-- journey_funnel: one row per month of a person's first touch. A person is a customer
-- (stitched), or for prospects an anonymous id. Stages, each within the one before:
--   considered: any product_view, search, search_no_results or add_to_cart;
--   purchased: considered and >= 1 purchase;  repeated: considered and >= 2 purchases;
--   advocated: repeated and any nps >= 9, a review with csat >= 4, or a social_interaction.
-- median_days_to_purchase: days (fractional) from first touch to first purchase, over the
-- month's persons counted in purchased.
-- test: unique(first_touch_month)
-- test: expression(persons >= considered and considered >= purchased and purchased >= repeated and repeated >= advocated)
-- test: range(median_days_to_purchase, 0, 100000)
with persons as (
    select
        person_id,
        min(occurred_at) as first_touch_at,
        min(occurred_at) filter (where touchpoint = 'purchase') as first_purchase_at,
        count(*) filter (where touchpoint = 'purchase') as purchases,
        bool_or(touchpoint in ('product_view', 'search', 'search_no_results', 'add_to_cart')) as considered,
        bool_or(
            nps >= 9
            or (touchpoint = 'review' and csat >= 4)
            or touchpoint = 'social_interaction'
        ) as advocacy
    from int_events
    group by person_id
),

staged as (
    select
        cast(date_trunc('month', first_touch_at) as date) as first_touch_month,
        considered,
        considered and purchases >= 1 as purchased,
        considered and purchases >= 2 as repeated,
        considered and purchases >= 2 and coalesce(advocacy, false) as advocated,
        case
            when considered and purchases >= 1
                then (date_part('epoch', first_purchase_at) - date_part('epoch', first_touch_at)) / 86400.0
        end as days_to_purchase
    from persons
)

select
    first_touch_month,
    count(*) as persons,
    count(*) filter (where considered) as considered,
    count(*) filter (where purchased) as purchased,
    count(*) filter (where repeated) as repeated,
    count(*) filter (where advocated) as advocated,
    median(days_to_purchase) as median_days_to_purchase
from staged
group by first_touch_month
order by first_touch_month
