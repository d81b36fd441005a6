-- rpt_kpis_monthly: one row per calendar month with any valid event: the numbers of the report's
-- headline tiles, compared month over month.
--   active_customers: customers active on any day of the month;
--   purchases, net_revenue: purchases, and amount paid on purchases minus amount refunded on
--   returns, over all events (prospects included);
--   nps .. resolution_rate: experience_quality_monthly for channel 'all' (with their answers);
--   month1_cohort_customers, month1_purchase_retention: of the customers whose first purchase
--   was in the month before, how many there are and the share who bought again in this month.
with daily_revenue as (
    -- Days first: the month is then taken 365 times a year, not once per row. A day can have a
    -- row from each night that read its events.
    select event_date, sum(purchases) as purchases, sum(net_revenue_micros) as net_revenue_micros
    from int_daily_revenue
    group by event_date
),

revenue as (
    -- Every month with any event, and its revenue.
    select
        cast(date_trunc('month', event_date) as date) as month,
        sum(purchases) as purchases,
        cast(sum(net_revenue_micros) as double) / 1000000 as net_revenue
    from daily_revenue
    group by 1
),

active as (
    select month, sum(active_customers) as active_customers
    from monthly_active_changes
    group by month
),

quality as (
    select *
    from experience_quality_monthly
    where channel = 'all'
),

month_one as (
    select
        cast(cohort_month + interval '1 month' as date) as month,
        cohort_customers,
        purchasing_rate
    from retention_monthly
    where month_number = 1
)

select
    r.month,
    coalesce(a.active_customers, 0) as active_customers,
    r.purchases,
    r.net_revenue,
    coalesce(q.nps_responses, 0) as nps_responses,
    q.nps,
    coalesce(q.csat_responses, 0) as csat_responses,
    q.csat,
    coalesce(q.ces_responses, 0) as ces_responses,
    q.ces_avg,
    coalesce(q.searches, 0) as searches,
    q.failed_search_rate,
    coalesce(q.support_contacts, 0) as support_contacts,
    q.resolution_rate,
    coalesce(o.cohort_customers, 0) as month1_cohort_customers,
    o.purchasing_rate as month1_purchase_retention
from revenue as r
left join active as a on a.month = r.month
left join quality as q on q.month = r.month
left join month_one as o on o.month = r.month
order by r.month
