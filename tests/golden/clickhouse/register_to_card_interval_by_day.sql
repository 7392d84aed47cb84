WITH interval_events AS (
  SELECT
    events.user_id AS user_id,
    events.event_time AS event_time,
    events.event_id AS event_id,
    CAST(events.event_time AS Nullable(DATE)) AS "day",
    users.register_channel AS register_channel,
    CASE WHEN events.event = 'register' THEN 1 ELSE 0 END AS is_start,
    CASE WHEN events.event = 'bind_card' AND (
      events.is_success
    ) THEN 1 ELSE 0 END AS is_end
  FROM events
  LEFT JOIN users
    ON events.user_id = users.user_id
  WHERE
    NOT (
      events.user_id IS NULL
    )
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND events.event_time < (
      CAST('2026-04-01 00:00:00' AS Nullable(DateTime)) + INTERVAL '2592000' SECOND
    )
    AND (
      (
        events.event = 'register'
      )
      OR (
        events.event = 'bind_card' AND (
          events.is_success
        )
      )
    )
), interval_positions AS (
  SELECT
    *,
    SUM(is_end) OVER (
      PARTITION BY user_id
      ORDER BY event_time, 1 - is_start, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS end_count
  FROM interval_events
), interval_pairs AS (
  SELECT
    begin.user_id AS user_id,
    begin.event_time AS start_time,
    begin."day" AS "day",
    begin.register_channel AS register_channel,
    finish.event_time AS end_time,
    DATE_DIFF(MICROSECOND, begin.event_time, finish.event_time) / 1000000 AS seconds
  FROM interval_positions AS begin
  JOIN interval_positions AS finish
    ON finish.user_id = begin.user_id
    AND finish.end_count = (
      begin.end_count + 1
    )
    AND finish.is_end = 1
  WHERE
    begin.is_start = 1
    AND begin.event_time < CAST('2026-04-01 00:00:00' AS Nullable(DateTime))
    AND finish.event_time <= (
      begin.event_time + INTERVAL '2592000' SECOND
    )
)
SELECT
  "day",
  register_channel,
  COUNT(DISTINCT user_id) AS users,
  COUNT(*) AS intervals,
  CAST(AVG(seconds) AS Nullable(Float64)) AS mean_seconds,
  CAST(quantileExactInclusive(0.1)(seconds) AS Nullable(Float64)) AS p10_seconds,
  CAST(quantileExactInclusive(0.25)(seconds) AS Nullable(Float64)) AS p25_seconds,
  CAST(quantileExactInclusive(0.5)(seconds) AS Nullable(Float64)) AS p50_seconds,
  CAST(quantileExactInclusive(0.75)(seconds) AS Nullable(Float64)) AS p75_seconds,
  CAST(quantileExactInclusive(0.9)(seconds) AS Nullable(Float64)) AS p90_seconds
FROM interval_pairs
GROUP BY
  1,
  2
ORDER BY
  "day" ASC,
  register_channel ASC
SETTINGS join_use_nulls = 1, optimize_distributed_group_by_sharding_key = 1
