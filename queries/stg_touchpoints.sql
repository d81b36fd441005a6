-- stg_touchpoints: one row per row read from the input, with values cleaned and a validity flag.
-- A row is valid when it has every required field (event_id, occurred_at, anonymous_id, channel,
-- touchpoint; blank text counts as missing) and occurred before the end of the run date.
-- Scores outside nps 0-10, csat 1-5, ces 1-7 (or not whole numbers) become null and are counted;
-- a channel outside the vocabulary becomes 'other'. See CONTRACT.md §1. arrival_order increases in
-- the order rows arrived: files by arrival date then path, rows by their position in the file.
-- materialized: view
with cleaned as (
    select
        -- trimmed(x) is nullif(trim(x), ''), lower_trim(x) lower(trim(x)) and upper_trim(x)
        -- upper(trim(x)), without copying the values that are clean already.
        trimmed(event_id) as event_id,
        occurred_at,
        trimmed(anonymous_id) as anonymous_id,
        lower_trim(channel) as channel_raw,
        lower_trim(touchpoint) as touchpoint,
        trimmed(customer_id) as customer_id,
        trimmed(session_id) as session_id,
        revenue,
        nps as nps_raw,
        csat as csat_raw,
        ces as ces_raw,
        comment,
        duration_s,
        upper_trim(country) as country,
        properties,
        arrival_date,
        source_file,
        -- Files in arrival order, then rows in file order: which copy of an event came first.
        file_seq * 4294967296 + source_row as arrival_order,
        -- On the columns as read: has_text(x) is `nullif(trim(x), '') is not null` without
        -- building the trimmed strings.
        has_text(event_id)
            and has_text(anonymous_id)
            and has_text(channel)
            and has_text(touchpoint)
            and coalesce(occurred_at < run_end(), false)
            as is_valid
    from raw_touchpoints
)

select
    event_id,
    occurred_at,
    -- utc_date(t) is cast(t as date) for a UTC instant, without a zoned date-time per row.
    utc_date(occurred_at) as event_date,
    anonymous_id,
    case
        when channel_raw in ('web', 'app', 'email', 'chat', 'phone', 'store', 'social', 'voice')
            then channel_raw
        else 'other'
    end as channel,
    channel_raw in ('web', 'app', 'email', 'chat', 'phone', 'store', 'social', 'voice') as channel_known,
    touchpoint,
    touchpoint in (
        'ad_impression', 'ad_click', 'page_view', 'store_visit', 'search', 'search_no_results',
        'product_view', 'add_to_cart', 'checkout_start', 'purchase', 'return', 'signup', 'login',
        'support_contact', 'support_resolved', 'survey_response', 'review', 'email_open',
        'email_click', 'social_interaction', 'unsubscribe'
    ) as touchpoint_known,
    customer_id,
    session_id,
    revenue,
    -- valid_score(x, lo, hi): x as an integer when it is a whole number from lo to hi, else null.
    valid_score(nps_raw, 0, 10) as nps,
    valid_score(csat_raw, 1, 5) as csat,
    valid_score(ces_raw, 1, 7) as ces,
    cast(nps_raw is not null and valid_score(nps_raw, 0, 10) is null as bigint)
    + cast(csat_raw is not null and valid_score(csat_raw, 1, 5) is null as bigint)
    + cast(ces_raw is not null and valid_score(ces_raw, 1, 7) is null as bigint)
        as out_of_range_scores,
    comment,
    duration_s,
    country,
    properties,
    arrival_date,
    source_file,
    arrival_order,
    is_valid
from cleaned
