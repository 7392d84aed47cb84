WITH funnel_events AS (
  SELECT
    events.user_id AS user_id,
    events.event_time AS event_time,
    events.event_id AS event_id,
    events.platform AS platform,
    CASE WHEN events.event = 'register' THEN 1 ELSE 0 END AS is_step_1,
    CASE
      WHEN events.event = 'realname_auth' AND (
        events.is_success
      )
      THEN 1
      ELSE 0
    END AS is_step_2,
    CASE WHEN events.event = 'bind_card' AND (
      events.is_success
    ) THEN 1 ELSE 0 END AS is_step_3,
    CASE
      WHEN events.event = 'register'
      THEN 1
      WHEN events.event = 'realname_auth' AND (
        events.is_success
      )
      THEN 2
      WHEN events.event = 'bind_card' AND (
        events.is_success
      )
      THEN 3
    END AS first_step
  FROM events
  WHERE
    NOT events.user_id IS NULL
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS TIMESTAMP)
    AND events.event_time < (
      CAST('2026-04-01 00:00:00' AS TIMESTAMP) + INTERVAL '604800 SECOND'
    )
    AND (
      (
        events.event = 'register'
      )
      OR (
        events.event = 'realname_auth' AND (
          events.is_success
        )
      )
      OR (
        events.event = 'bind_card' AND (
          events.is_success
        )
      )
    )
), funnel_positions AS (
  SELECT
    *,
    SUM(is_step_1) OVER (
      PARTITION BY user_id
      ORDER BY event_time, first_step, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS step_1_count,
    SUM(is_step_2) OVER (
      PARTITION BY user_id
      ORDER BY event_time, first_step, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS step_2_count,
    SUM(is_step_3) OVER (
      PARTITION BY user_id
      ORDER BY event_time, first_step, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS step_3_count
  FROM funnel_events
), funnel_paths AS (
  SELECT
    step_1.user_id AS user_id,
    step_1.step_1_count AS start_position,
    step_1.platform AS platform,
    step_1.event_time AS step_1_time,
    step_2.event_time AS step_2_time,
    step_3.event_time AS step_3_time,
    CASE
      WHEN NOT step_3.event_time IS NULL
      THEN 3
      WHEN NOT step_2.event_time IS NULL
      THEN 2
      ELSE 1
    END AS depth
  FROM funnel_positions AS step_1
  LEFT JOIN funnel_positions AS step_2
    ON step_2.user_id = step_1.user_id
    AND step_2.is_step_2 = 1
    AND step_2.step_2_count = (
      step_1.step_2_count + 1
    )
    AND step_2.event_time <= (
      step_1.event_time + INTERVAL '604800 SECOND'
    )
  LEFT JOIN funnel_positions AS step_3
    ON step_3.user_id = step_1.user_id
    AND step_3.is_step_3 = 1
    AND step_3.step_3_count = (
      step_2.step_3_count + 1
    )
    AND step_3.event_time <= (
      step_1.event_time + INTERVAL '604800 SECOND'
    )
  WHERE
    step_1.is_step_1 = 1
    AND step_1.event_time < CAST('2026-04-01 00:00:00' AS TIMESTAMP)
), funnel_depths AS (
  SELECT
    user_id,
    MAX(depth) AS depth
  FROM funnel_paths
  GROUP BY
    user_id
), funnel_best_starts AS (
  SELECT
    paths.user_id AS user_id,
    MIN(paths.start_position) AS start_position
  FROM funnel_paths AS paths
  JOIN funnel_depths AS deepest
    ON paths.user_id = deepest.user_id AND paths.depth = deepest.depth
  GROUP BY
    paths.user_id
), funnel_users AS (
  SELECT
    best.user_id AS user_id,
    CAST(DATE_TRUNC('WEEK', earliest.step_1_time) AS DATE) AS "week",
    earliest.platform AS platform,
    best.step_1_time AS step_1_time,
    best.step_2_time AS step_2_time,
    best.step_3_time AS step_3_time
  FROM funnel_paths AS best
  JOIN funnel_best_starts AS chosen
    ON best.user_id = chosen.user_id AND best.start_position = chosen.start_position
  JOIN funnel_paths AS earliest
    ON earliest.user_id = best.user_id AND earliest.start_position = 1
), funnel_counts AS (
  SELECT
    "week",
    platform,
    COUNT(*) AS step_1_users,
    COUNT(step_2_time) AS step_2_users,
    MEDIAN(DATEDIFF(SECOND, step_1_time, step_2_time)) AS step_2_median_seconds,
    PERCENTILE_CONT(0.1) WITHIN GROUP (ORDER BY
      DATEDIFF(SECOND, step_1_time, step_2_time)) AS step_2_p10,
    PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY
      DATEDIFF(SECOND, step_1_time, step_2_time)) AS step_2_p25,
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
      DATEDIFF(SECOND, step_1_time, step_2_time)) AS step_2_p50,
    PERCENTILE_CONT(0.75) WITHIN GROUP (ORDER BY
      DATEDIFF(SECOND, step_1_time, step_2_time)) AS step_2_p75,
    PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY
      DATEDIFF(SECOND, step_1_time, step_2_time)) AS step_2_p90,
    COUNT(step_3_time) AS step_3_users,
    MEDIAN(DATEDIFF(SECOND, step_2_time, step_3_time)) AS step_3_median_seconds,
    PERCENTILE_CONT(0.1) WITHIN GROUP (ORDER BY
      DATEDIFF(SECOND, step_2_time, step_3_time)) AS step_3_p10,
    PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY
      DATEDIFF(SECOND, step_2_time, step_3_time)) AS step_3_p25,
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
      DATEDIFF(SECOND, step_2_time, step_3_time)) AS step_3_p50,
    PERCENTILE_CONT(0.75) WITHIN GROUP (ORDER BY
      DATEDIFF(SECOND, step_2_time, step_3_time)) AS step_3_p75,
    PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY
      DATEDIFF(SECOND, step_2_time, step_3_time)) AS step_3_p90
  FROM funnel_users
  GROUP BY
    1,
    2
), funnel_steps AS (
  SELECT
    "week",
    platform,
    1 AS step,
    'register' AS step_name,
    step_1_users AS users,
    CAST(step_1_users AS DOUBLE) / NULLIF(step_1_users, 0) AS conversion_from_previous,
    CAST(step_1_users AS DOUBLE) / NULLIF(step_1_users, 0) AS conversion_from_first,
    CAST(NULL AS DOUBLE) AS median_seconds_to_convert,
    CAST(NULL AS DOUBLE) AS seconds_to_convert_p10,
    CAST(NULL AS DOUBLE) AS seconds_to_convert_p25,
    CAST(NULL AS DOUBLE) AS seconds_to_convert_p50,
    CAST(NULL AS DOUBLE) AS seconds_to_convert_p75,
    CAST(NULL AS DOUBLE) AS seconds_to_convert_p90
  FROM funnel_counts
  UNION ALL
  SELECT
    "week",
    platform,
    2 AS step,
    'realname_auth' AS step_name,
    step_2_users AS users,
    CAST(step_2_users AS DOUBLE) / NULLIF(step_1_users, 0) AS conversion_from_previous,
    CAST(step_2_users AS DOUBLE) / NULLIF(step_1_users, 0) AS conversion_from_first,
    CAST(step_2_median_seconds AS DOUBLE) AS median_seconds_to_convert,
    CAST(step_2_p10 AS DOUBLE) AS seconds_to_convert_p10,
    CAST(step_2_p25 AS DOUBLE) AS seconds_to_convert_p25,
    CAST(step_2_p50 AS DOUBLE) AS seconds_to_convert_p50,
    CAST(step_2_p75 AS DOUBLE) AS seconds_to_convert_p75,
    CAST(step_2_p90 AS DOUBLE) AS seconds_to_convert_p90
  FROM funnel_counts
  UNION ALL
  SELECT
    "week",
    platform,
    3 AS step,
    'bind_card' AS step_name,
    step_3_users AS users,
    CAST(step_3_users AS DOUBLE) / NULLIF(step_2_users, 0) AS conversion_from_previous,
    CAST(step_3_users AS DOUBLE) / NULLIF(step_1_users, 0) AS conversion_from_first,
    CAST(step_3_median_seconds AS DOUBLE) AS median_seconds_to_convert,
    CAST(step_3_p10 AS DOUBLE) AS seconds_to_convert_p10,
    CAST(step_3_p25 AS DOUBLE) AS seconds_to_convert_p25,
    CAST(step_3_p50 AS DOUBLE) AS seconds_to_convert_p50,
    CAST(step_3_p75 AS DOUBLE) AS seconds_to_convert_p75,
    CAST(step_3_p90 AS DOUBLE) AS seconds_to_convert_p90
  FROM funnel_counts
)
SELECT
  *
FROM funnel_steps
ORDER BY
  "week" ASC,
  platform ASC,
  step ASC
