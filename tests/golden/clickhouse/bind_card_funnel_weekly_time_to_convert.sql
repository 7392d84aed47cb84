WITH funnel_arrays AS (
  SELECT
    events.user_id AS user_id,
    arraySort(
      groupArray(
        tuple(
          events.event_time,
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
          END,
          events.event_id,
          CASE WHEN events.event = 'register' THEN 1 ELSE 0 END + (
            CASE
              WHEN events.event = 'realname_auth' AND (
                events.is_success
              )
              THEN 1
              ELSE 0
            END
          ) * 2 + (
            CASE WHEN events.event = 'bind_card' AND (
              events.is_success
            ) THEN 1 ELSE 0 END
          ) * 4
        )
      )
    ) AS sorted_events,
    argMinIf(
      tuple(events.platform),
      tuple(events.event_time, events.event_id),
      CASE WHEN events.event = 'register' THEN 1 ELSE 0 END = 1
      AND events.event_time < CAST('2026-04-01 00:00:00' AS Nullable(DateTime))
    ) AS entry_values
  FROM events
  WHERE
    NOT (
      events.user_id IS NULL
    )
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND events.event_time < (
      CAST('2026-04-01 00:00:00' AS Nullable(DateTime)) + INTERVAL '604800' SECOND
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
  GROUP BY
    events.user_id
), funnel_user_paths AS (
  SELECT
    user_id,
    tupleElement(entry_values, 1) AS platform,
    arrayMap(x -> tupleElement(x, 1), sorted_events) AS event_times,
    arrayMap(x -> tupleElement(x, 4), sorted_events) AS event_masks,
    arrayFilter(
      i -> bitTest(arrayElement(event_masks, i), 0)
      AND arrayElement(event_times, i) < CAST('2026-04-01 00:00:00' AS Nullable(DateTime)),
      arrayEnumerate(sorted_events)
    ) AS path_1,
    arrayMap(s -> arrayElement(event_times, s) + INTERVAL '604800' SECOND, path_1) AS deadlines,
    arrayPushBack(
      arrayPopFront(
        arrayReverseFill(
          x -> x > 0,
          arrayMap(
            i -> CASE WHEN bitTest(arrayElement(event_masks, i), 1) THEN i ELSE 0 END,
            arrayEnumerate(sorted_events)
          )
        )
      ),
      0
    ) AS next_2,
    arrayPushBack(
      arrayPopFront(
        arrayReverseFill(
          x -> x > 0,
          arrayMap(
            i -> CASE WHEN bitTest(arrayElement(event_masks, i), 2) THEN i ELSE 0 END,
            arrayEnumerate(sorted_events)
          )
        )
      ),
      0
    ) AS next_3,
    arrayMap(
      (p, d) -> CASE
        WHEN arrayElement(next_2, p) > 0
        AND arrayElement(event_times, arrayElement(next_2, p)) <= d
        THEN arrayElement(next_2, p)
        ELSE 0
      END,
      path_1,
      deadlines
    ) AS path_2,
    arrayMap(
      (p, d) -> CASE
        WHEN arrayElement(next_3, p) > 0
        AND arrayElement(event_times, arrayElement(next_3, p)) <= d
        THEN arrayElement(next_3, p)
        ELSE 0
      END,
      path_2,
      deadlines
    ) AS path_3,
    arrayMap((p1, p2, p3) -> 1 + (
      p2 > 0
    ) + (
      p3 > 0
    ), path_1, path_2, path_3) AS depths,
    indexOf(depths, arrayMax(depths)) AS best,
    arrayElement(event_times, arrayElement(path_1, best)) AS step_1_time,
    CASE
      WHEN arrayElement(path_2, best) > 0
      THEN arrayElement(event_times, arrayElement(path_2, best))
      ELSE NULL
    END AS step_2_time,
    CASE
      WHEN arrayElement(path_3, best) > 0
      THEN arrayElement(event_times, arrayElement(path_3, best))
      ELSE NULL
    END AS step_3_time
  FROM funnel_arrays
  WHERE
    notEmpty(path_1)
), funnel_users AS (
  SELECT
    user_id,
    CAST(dateTrunc('WEEK', arrayElement(event_times, arrayElement(path_1, 1))) AS Nullable(DATE)) AS "week",
    platform,
    step_1_time,
    step_2_time,
    step_3_time
  FROM funnel_user_paths
), funnel_counts AS (
  SELECT
    "week",
    platform,
    COUNT(*) AS step_1_users,
    COUNT(step_2_time) AS step_2_users,
    quantileExactInclusive(0.5)(DATE_DIFF(MICROSECOND, step_1_time, step_2_time) / 1000000) AS step_2_median_seconds,
    quantileExactInclusive(0.1)(DATE_DIFF(MICROSECOND, step_1_time, step_2_time) / 1000000) AS step_2_p10,
    quantileExactInclusive(0.25)(DATE_DIFF(MICROSECOND, step_1_time, step_2_time) / 1000000) AS step_2_p25,
    quantileExactInclusive(0.5)(DATE_DIFF(MICROSECOND, step_1_time, step_2_time) / 1000000) AS step_2_p50,
    quantileExactInclusive(0.75)(DATE_DIFF(MICROSECOND, step_1_time, step_2_time) / 1000000) AS step_2_p75,
    quantileExactInclusive(0.9)(DATE_DIFF(MICROSECOND, step_1_time, step_2_time) / 1000000) AS step_2_p90,
    COUNT(step_3_time) AS step_3_users,
    quantileExactInclusive(0.5)(DATE_DIFF(MICROSECOND, step_2_time, step_3_time) / 1000000) AS step_3_median_seconds,
    quantileExactInclusive(0.1)(DATE_DIFF(MICROSECOND, step_2_time, step_3_time) / 1000000) AS step_3_p10,
    quantileExactInclusive(0.25)(DATE_DIFF(MICROSECOND, step_2_time, step_3_time) / 1000000) AS step_3_p25,
    quantileExactInclusive(0.5)(DATE_DIFF(MICROSECOND, step_2_time, step_3_time) / 1000000) AS step_3_p50,
    quantileExactInclusive(0.75)(DATE_DIFF(MICROSECOND, step_2_time, step_3_time) / 1000000) AS step_3_p75,
    quantileExactInclusive(0.9)(DATE_DIFF(MICROSECOND, step_2_time, step_3_time) / 1000000) AS step_3_p90
  FROM funnel_users
  GROUP BY
    1,
    2
), funnel_steps AS (
  SELECT
    "week",
    platform,
    arrayJoin(range(1, 4)) AS step,
    arrayElement(['register', 'realname_auth', 'bind_card'], step) AS step_name,
    arrayElement([step_1_users, step_2_users, step_3_users], step) AS users,
    CAST(arrayElement([step_1_users, step_2_users, step_3_users], step) AS Nullable(Float64)) / nullIf(arrayElement([step_1_users, step_1_users, step_2_users], step), 0) AS conversion_from_previous,
    CAST(arrayElement([step_1_users, step_2_users, step_3_users], step) AS Nullable(Float64)) / nullIf(step_1_users, 0) AS conversion_from_first,
    arrayElement(
      [
        CAST(NULL AS Nullable(Float64)),
        CAST(step_2_median_seconds AS Nullable(Float64)),
        CAST(step_3_median_seconds AS Nullable(Float64))
      ],
      step
    ) AS median_seconds_to_convert,
    arrayElement(
      [
        CAST(NULL AS Nullable(Float64)),
        CAST(step_2_p10 AS Nullable(Float64)),
        CAST(step_3_p10 AS Nullable(Float64))
      ],
      step
    ) AS seconds_to_convert_p10,
    arrayElement(
      [
        CAST(NULL AS Nullable(Float64)),
        CAST(step_2_p25 AS Nullable(Float64)),
        CAST(step_3_p25 AS Nullable(Float64))
      ],
      step
    ) AS seconds_to_convert_p25,
    arrayElement(
      [
        CAST(NULL AS Nullable(Float64)),
        CAST(step_2_p50 AS Nullable(Float64)),
        CAST(step_3_p50 AS Nullable(Float64))
      ],
      step
    ) AS seconds_to_convert_p50,
    arrayElement(
      [
        CAST(NULL AS Nullable(Float64)),
        CAST(step_2_p75 AS Nullable(Float64)),
        CAST(step_3_p75 AS Nullable(Float64))
      ],
      step
    ) AS seconds_to_convert_p75,
    arrayElement(
      [
        CAST(NULL AS Nullable(Float64)),
        CAST(step_2_p90 AS Nullable(Float64)),
        CAST(step_3_p90 AS Nullable(Float64))
      ],
      step
    ) AS seconds_to_convert_p90
  FROM funnel_counts
)
SELECT
  *
FROM funnel_steps
ORDER BY
  "week" ASC,
  platform ASC,
  step ASC
SETTINGS join_use_nulls = 1, optimize_distributed_group_by_sharding_key = 1
