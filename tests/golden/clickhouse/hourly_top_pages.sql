WITH event_metrics AS (
  SELECT
    dateTrunc('HOUR', events.event_time) AS "hour",
    events.page AS page,
    COUNT(*) AS pv
  FROM events
  WHERE
    events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND events.event_time < CAST('2026-04-01 00:00:00' AS Nullable(DateTime))
    AND events.event IN ('$AppViewScreen', '$pageview')
  GROUP BY
    1,
    2
)
SELECT
  "hour",
  page,
  pv
FROM event_metrics
ORDER BY
  pv DESC
LIMIT 10
SETTINGS join_use_nulls = 1, optimize_distributed_group_by_sharding_key = 1
