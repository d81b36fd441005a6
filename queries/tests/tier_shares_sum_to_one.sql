-- Every customer ever active is in exactly one engagement tier, so the shares sum to 1.
select sum(share) as total_share
from engagement_tiers
having sum(customers) > 0 and abs(sum(share) - 1) > 0.000001
