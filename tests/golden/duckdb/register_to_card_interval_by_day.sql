WITH interval_events AS (
  SELECT
    events.user_id AS user_id,
    events.event_time AS event_time,
    events.event_id AS event_id,
    CAST(events.event_time AS DATE) AS "day",
    users.register_channel AS register_channel,
    CASE WHEN events.event = 'register' THEN 1 ELSE 0 END AS is_start,
    CASE WHEN events.event = 'bind_card' AND (
      events.is_success
    ) THEN 1 ELSE 0 END AS is_end
  FROM events
  LEFT JOIN users
    ON events.user_id = users.user_id
  WHERE
    NOT events.user_id IS NULL
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS TIMESTAMP)
    AND events.event_time < (
      CAST('2026-04-01 00:00:00' AS TIMESTAMP) + INTERVAL '2592000' SECOND
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
    EPOCH(finish.event_time) - EPOCH(begin.event_time) AS seconds
  FROM interval_positions AS begin
  JOIN interval_positions AS finish
    ON finish.user_id = begin.user_id
    AND finish.end_count = (
      begin.end_count + 1
    )
    AND finish.is_end = 1
  WHERE
    begin.is_start = 1
    AND begin.event_time < CAST('2026-04-01 00:00:00' AS TIMESTAMP)
    AND finish.event_time <= (
      begin.event_time + INTERVAL '2592000' SECOND
    )
)
SELECT
  "day",
  register_channel,
  COUNT(DISTINCT user_id) AS users,
  COUNT(*) AS intervals,
  CAST(AVG(seconds) AS DOUBLE) AS mean_seconds,
  CAST(QUANTILE_CONT(seconds, 0.1) AS DOUBLE) AS p10_seconds,
  CAST(QUANTILE_CONT(seconds, 0.25) AS DOUBLE) AS p25_seconds,
  CAST(QUANTILE_CONT(seconds, 0.5) AS DOUBLE) AS p50_seconds,
  CAST(QUANTILE_CONT(seconds, 0.75) AS DOUBLE) AS p75_seconds,
  CAST(QUANTILE_CONT(seconds, 0.9) AS DOUBLE) AS p90_seconds
FROM interval_pairs
GROUP BY
  1,
  2
ORDER BY
  "day" ASC,
  register_channel ASC
