WITH event_metrics AS (
  SELECT
    CAST(events.event_time AS Nullable(DATE)) AS "day",
    events.platform AS platform,
    COUNT(CASE WHEN events.event IN ('$AppViewScreen', '$pageview') THEN 1 END) AS pv,
    COUNT(DISTINCT events.user_id) AS uv
  FROM events
  WHERE
    events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND events.event_time < CAST('2026-04-01 00:00:00' AS Nullable(DateTime))
  GROUP BY
    1,
    2
)
SELECT
  "day",
  platform,
  pv,
  uv
FROM event_metrics
ORDER BY
  "day" ASC,
  platform ASC
SETTINGS join_use_nulls = 1, optimize_distributed_group_by_sharding_key = 1
