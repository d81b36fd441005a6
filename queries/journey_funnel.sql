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
with parts as (
    select
        coalesce(j.customer_id, i.customer_id) as customer_id,
        j.anonymous_id,
        j.first_touch_at,
        j.first_purchase_at,
        j.purchases,
        j.considered,
        j.advocacy
    from int_journey_parts as j
    left join int_identities as i on j.anonymous_id = i.anonymous_id
),

persons as (
    select
        case
            when customer_id is not null then 'customer:' || customer_id
            else 'anonymous:' || anonymous_id
        end as person_id,
        min(first_touch_at) as first_touch_at,
        min(first_purchase_at) as first_purchase_at,
        sum(purchases) as purchases,
        bool_or(considered) as considered,
        bool_or(advocacy) as advocacy
    from parts
    group by 1
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
