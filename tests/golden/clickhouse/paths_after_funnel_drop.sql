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
    ) AS sorted_events
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
    step_1_time,
    step_2_time,
    step_3_time
  FROM funnel_user_paths
), path_rows AS (
  SELECT
    events.user_id AS user_id,
    events.event_time AS event_time,
    events.event_id AS event_id,
    events.event AS node,
    CASE
      WHEN events.event = 'realname_auth' AND (
        events.is_success
      )
      THEN 1
      ELSE 0
    END AS is_anchor
  FROM events
  WHERE
    NOT (
      events.user_id IS NULL
    )
    AND NOT (
      events.event IS NULL
    )
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS Nullable(DateTime))
    AND events.event_time < (
      CAST('2026-04-01 00:00:00' AS Nullable(DateTime)) + INTERVAL '604800' SECOND
    )
), path_marks AS (
  SELECT
    *,
    lag(event_time) OVER (PARTITION BY user_id ORDER BY event_time, event_id) AS previous_time,
    lag(node) OVER (PARTITION BY user_id ORDER BY event_time, event_id) AS previous_node
  FROM path_rows
), path_flagged AS (
  SELECT
    user_id,
    event_time,
    event_id,
    node,
    is_anchor,
    CASE
      WHEN previous_time IS NULL
      OR event_time > (
        previous_time + INTERVAL '1800' SECOND
      )
      THEN 1
      ELSE 0
    END AS is_session_start,
    CASE
      WHEN (
        previous_time IS NULL
        OR event_time > (
          previous_time + INTERVAL '1800' SECOND
        )
      )
      OR previous_node <> node
      THEN 1
      ELSE 0
    END AS is_new_node
  FROM path_marks
), path_numbered AS (
  SELECT
    *,
    SUM(is_session_start) OVER (
      PARTITION BY user_id
      ORDER BY event_time, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS session_number,
    SUM(is_new_node) OVER (
      PARTITION BY user_id
      ORDER BY event_time, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "position"
  FROM path_flagged
), path_anchors AS (
  SELECT
    n.user_id AS user_id,
    n.session_number AS session_number,
    MIN(n."position") AS anchor
  FROM path_numbered AS n
  JOIN funnel_users AS f
    ON f.user_id = n.user_id AND f.step_2_time = n.event_time
  WHERE
    n.is_anchor = 1 AND f.step_3_time IS NULL
  GROUP BY
    1,
    2
), path_nodes AS (
  SELECT
    n.user_id AS user_id,
    n.session_number AS session_number,
    n."position" - a.anchor + 1 AS step_index,
    n.node AS node
  FROM path_numbered AS n
  JOIN path_anchors AS a
    ON a.user_id = n.user_id AND a.session_number = n.session_number
  WHERE
    n.is_new_node = 1
    AND (
      n."position" - a.anchor
    ) >= 0
    AND (
      n."position" - a.anchor
    ) < 4
), path_ranked AS (
  SELECT
    step_index,
    node,
    ROW_NUMBER() OVER (PARTITION BY step_index ORDER BY COUNT(DISTINCT user_id) DESC, node) AS node_rank
  FROM path_nodes
  GROUP BY
    step_index,
    node
), path_named AS (
  SELECT
    p.user_id,
    p.session_number,
    p.step_index,
    CASE WHEN r.node_rank <= 10 THEN p.node ELSE 'other' END AS node
  FROM path_nodes AS p
  JOIN path_ranked AS r
    ON r.step_index = p.step_index AND r.node = p.node
), path_flows AS (
  SELECT
    s.step_index AS step,
    s.node AS source,
    t.node AS target,
    s.user_id AS user_id
  FROM path_named AS s
  LEFT JOIN path_named AS t
    ON t.user_id = s.user_id
    AND t.session_number = s.session_number
    AND t.step_index = (
      s.step_index + 1
    )
  WHERE
    s.step_index < 4
)
SELECT
  step,
  source,
  target,
  COUNT(DISTINCT user_id) AS users
FROM path_flows
GROUP BY
  1,
  2,
  3
ORDER BY
  step,
  users DESC,
  source,
  target
SETTINGS join_use_nulls = 1, optimize_distributed_group_by_sharding_key = 1
