WITH funnel_events AS (
  SELECT
    events.user_id AS user_id,
    events.event_time AS event_time,
    events.event_id AS event_id,
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
    best.step_1_time AS step_1_time,
    best.step_2_time AS step_2_time,
    best.step_3_time AS step_3_time
  FROM funnel_paths AS best
  JOIN funnel_best_starts AS chosen
    ON best.user_id = chosen.user_id AND best.start_position = chosen.start_position
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
    NOT events.user_id IS NULL
    AND NOT events.event IS NULL
    AND events.event_time >= CAST('2026-03-01 00:00:00' AS TIMESTAMP)
    AND events.event_time < (
      CAST('2026-04-01 00:00:00' AS TIMESTAMP) + INTERVAL '604800 SECOND'
    )
), path_marks AS (
  SELECT
    *,
    LAG(event_time) OVER (PARTITION BY user_id ORDER BY event_time, event_id) AS previous_time,
    LAG(node) OVER (PARTITION BY user_id ORDER BY event_time, event_id) AS previous_node
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
        previous_time + INTERVAL '1800 SECOND'
      )
      THEN 1
      ELSE 0
    END AS is_session_start,
    CASE
      WHEN (
        previous_time IS NULL
        OR event_time > (
          previous_time + INTERVAL '1800 SECOND'
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
    ROW_NUMBER() OVER (PARTITION BY step_index ORDER BY COUNT(DISTINCT user_id) DESC NULLS LAST, node) AS node_rank
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
  users DESC NULLS LAST,
  source,
  target
