WITH funnel_arrays AS (
  SELECT
    events.user_id AS user_id,
    arraySort(
      groupArray(
        tuple(
          events.event_time,
          CASE
            WHEN events.event IN ('$AppViewScreen', '$pageview')
            AND (
              events.page = 'product_list'
            )
            THEN 1
            WHEN events.event IN ('$AppViewScreen', '$pageview')
            AND (
              events.page = 'product_detail'
            )
            THEN 2
            WHEN events.event IN ('$AppClick', '$WebClick')
            AND (
              events.element = 'invest_button'
            )
            THEN 3
            WHEN events.event = 'P2P_order_submit'
            THEN 4
            WHEN events.event = 'P2P_invest' AND (
              events.is_success
            )
            THEN 5
          END,
          events.event_id,
          CASE
            WHEN events.event IN ('$AppViewScreen', '$pageview')
            AND (
              events.page = 'product_list'
            )
            THEN 1
            ELSE 0
          END + (
            CASE
              WHEN events.event IN ('$AppViewScreen', '$pageview')
              AND (
                events.page = 'product_detail'
              )
              THEN 1
              ELSE 0
            END
          ) * 2 + (
            CASE
              WHEN events.event IN ('$AppClick', '$WebClick')
              AND (
                events.element = 'invest_button'
              )
              THEN 1
              ELSE 0
            END
          ) * 4 + (
            CASE WHEN events.event = 'P2P_order_submit' THEN 1 ELSE 0 END
          ) * 8 + (
            CASE WHEN events.event = 'P2P_invest' AND (
              events.is_success
            ) THEN 1 ELSE 0 END
          ) * 16
        )
      )
    ) AS sorted_events,
    argMinIf(
      tuple(events.platform),
      tuple(events.event_time, events.event_id),
      CASE
        WHEN events.event IN ('$AppViewScreen', '$pageview')
        AND (
          events.page = 'product_list'
        )
        THEN 1
        ELSE 0
      END = 1
      AND events.event_time < CAST('2026-04-01 00:00:00' AS Nullable(DateTime))
    ) AS entry_values
  FROM events
  WHERE
    NOT (
      events.user_id IS NULL
    )
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND events.event_time < (
      CAST('2026-04-01 00:00:00' AS Nullable(DateTime)) + INTERVAL '86400' SECOND
    )
    AND (
      (
        events.event IN ('$AppViewScreen', '$pageview')
        AND (
          events.page = 'product_list'
        )
      )
      OR (
        events.event IN ('$AppViewScreen', '$pageview')
        AND (
          events.page = 'product_detail'
        )
      )
      OR (
        events.event IN ('$AppClick', '$WebClick')
        AND (
          events.element = 'invest_button'
        )
      )
      OR (
        events.event = 'P2P_order_submit'
      )
      OR (
        events.event = 'P2P_invest' AND (
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
    arrayMap(s -> arrayElement(event_times, s) + INTERVAL '86400' SECOND, path_1) AS deadlines,
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
    arrayPushBack(
      arrayPopFront(
        arrayReverseFill(
          x -> x > 0,
          arrayMap(
            i -> CASE WHEN bitTest(arrayElement(event_masks, i), 3) THEN i ELSE 0 END,
            arrayEnumerate(sorted_events)
          )
        )
      ),
      0
    ) AS next_4,
    arrayPushBack(
      arrayPopFront(
        arrayReverseFill(
          x -> x > 0,
          arrayMap(
            i -> CASE WHEN bitTest(arrayElement(event_masks, i), 4) THEN i ELSE 0 END,
            arrayEnumerate(sorted_events)
          )
        )
      ),
      0
    ) AS next_5,
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
    arrayMap(
      (p, d) -> CASE
        WHEN arrayElement(next_4, p) > 0
        AND arrayElement(event_times, arrayElement(next_4, p)) <= d
        THEN arrayElement(next_4, p)
        ELSE 0
      END,
      path_3,
      deadlines
    ) AS path_4,
    arrayMap(
      (p, d) -> CASE
        WHEN arrayElement(next_5, p) > 0
        AND arrayElement(event_times, arrayElement(next_5, p)) <= d
        THEN arrayElement(next_5, p)
        ELSE 0
      END,
      path_4,
      deadlines
    ) AS path_5,
    arrayMap(
      (p1, p2, p3, p4, p5) -> 1 + (
        p2 > 0
      ) + (
        p3 > 0
      ) + (
        p4 > 0
      ) + (
        p5 > 0
      ),
      path_1,
      path_2,
      path_3,
      path_4,
      path_5
    ) AS depths,
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
    END AS step_3_time,
    CASE
      WHEN arrayElement(path_4, best) > 0
      THEN arrayElement(event_times, arrayElement(path_4, best))
      ELSE NULL
    END AS step_4_time,
    CASE
      WHEN arrayElement(path_5, best) > 0
      THEN arrayElement(event_times, arrayElement(path_5, best))
      ELSE NULL
    END AS step_5_time
  FROM funnel_arrays
  WHERE
    notEmpty(path_1)
), funnel_users AS (
  SELECT
    user_id,
    platform,
    step_1_time,
    step_2_time,
    step_3_time,
    step_4_time,
    step_5_time
  FROM funnel_user_paths
), funnel_counts AS (
  SELECT
    platform,
    COUNT(*) AS step_1_users,
    COUNT(step_2_time) AS step_2_users,
    quantileExactInclusive(0.5)(DATE_DIFF(MICROSECOND, step_1_time, step_2_time) / 1000000) AS step_2_median_seconds,
    COUNT(step_3_time) AS step_3_users,
    quantileExactInclusive(0.5)(DATE_DIFF(MICROSECOND, step_2_time, step_3_time) / 1000000) AS step_3_median_seconds,
    COUNT(step_4_time) AS step_4_users,
    quantileExactInclusive(0.5)(DATE_DIFF(MICROSECOND, step_3_time, step_4_time) / 1000000) AS step_4_median_seconds,
    COUNT(step_5_time) AS step_5_users,
    quantileExactInclusive(0.5)(DATE_DIFF(MICROSECOND, step_4_time, step_5_time) / 1000000) AS step_5_median_seconds
  FROM funnel_users
  GROUP BY
    1
), funnel_steps AS (
  SELECT
    platform,
    arrayJoin(range(1, 6)) AS step,
    arrayElement(
      [
        'product_list',
        'product_detail',
        'invest_click',
        'order_submit',
        'invest_success'
      ],
      step
    ) AS step_name,
    arrayElement([step_1_users, step_2_users, step_3_users, step_4_users, step_5_users], step) AS users,
    CAST(arrayElement([step_1_users, step_2_users, step_3_users, step_4_users, step_5_users], step) AS Nullable(Float64)) / nullIf(
      arrayElement([step_1_users, step_1_users, step_2_users, step_3_users, step_4_users], step),
      0
    ) AS conversion_from_previous,
    CAST(arrayElement([step_1_users, step_2_users, step_3_users, step_4_users, step_5_users], step) AS Nullable(Float64)) / nullIf(step_1_users, 0) AS conversion_from_first,
    arrayElement(
      [
        CAST(NULL AS Nullable(Float64)),
        CAST(step_2_median_seconds AS Nullable(Float64)),
        CAST(step_3_median_seconds AS Nullable(Float64)),
        CAST(step_4_median_seconds AS Nullable(Float64)),
        CAST(step_5_median_seconds AS Nullable(Float64))
      ],
      step
    ) AS median_seconds_to_convert
  FROM funnel_counts
)
SELECT
  *
FROM funnel_steps
ORDER BY
  platform ASC,
  step ASC
SETTINGS join_use_nulls = 1, optimize_distributed_group_by_sharding_key = 1
