-- lifecycle_weekly: one row per ISO week (starting Monday) in which any customer was active.
--   new: customers whose first active week it is;
--   returning: active this week and the previous one;
--   resurrecting: active this week, not the previous one, but in some week before;
--   dormant: active the previous week but not this one.
-- The counts come from lifecycle_changes, which each run adds to.
-- test: unique(week_start)
-- test: expression(new + returning + resurrecting > 0)
select
    c.week_start,
    cast(sum(c.new) as bigint) as new,
    cast(sum(c.returning) as bigint) as returning,
    cast(sum(c.resurrecting) as bigint) as resurrecting,
    cast(sum(c.dormant) as bigint) as dormant
from lifecycle_changes as c
group by c.week_start
-- Weeks with an active customer: the dormant of the week after the last one is not a row.
having sum(c.new) + sum(c.returning) + sum(c.resurrecting) > 0
order by c.week_start
