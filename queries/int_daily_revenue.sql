-- int_daily_revenue: purchases and net revenue per UTC day, over all events (prospects included),
-- added up from int_daily_activity, so that rpt_kpis_monthly reads a few rows a night instead of
-- its 2.2 million. Incremental: each night adds a row for each day of the events that arrived;
-- readers add up the rows of a day.
--   net_revenue_micros: net revenue in millionths (see int_daily_activity): sums of it come out
--   the same in any order.
-- materialized: incremental
select event_date, sum(purchases) as purchases, sum(net_revenue_micros) as net_revenue_micros
from int_daily_activity
group by event_date
