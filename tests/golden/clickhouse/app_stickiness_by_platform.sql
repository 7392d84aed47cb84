WITH active_user_days AS (
  SELECT DISTINCT
    CAST(dateTrunc('WEEK', events.event_time) AS Nullable(DATE)) AS "week",
    events.platform AS platform,
    events.user_id AS user_id,
    CAST(events.event_time AS Nullable(DATE)) AS active_day
  FROM events
  WHERE
    NOT (
      events.user_id IS NULL
    )
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND events.event_time < CAST('2026-04-01 00:00:00' AS Nullable(DateTime))
    AND events.event = '$AppStart'
), active_days AS (
  SELECT
    "week",
    platform,
    user_id,
    COUNT(*) AS active_days
  FROM active_user_days
  GROUP BY
    1,
    2,
    3
)
SELECT
  "week",
  platform,
  active_days,
  COUNT(*) AS users
FROM active_days
GROUP BY
  1,
  2,
  3
ORDER BY
  "week" ASC,
  platform ASC,
  active_days ASC
SETTINGS join_use_nulls = 1, optimize_distributed_group_by_sharding_key = 1
