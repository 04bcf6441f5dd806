import type { Pool } from 'pg';

/**
 * Generated read-model rows (ids: md5 digests made valid version-4 UUIDs) for the dashboards' benchmark, written set-based
 * (INSERT … SELECT generate_series) on top of the demo catalog the service projected:
 * students, assessments over the last `days` days (status, degraded, submit and completion
 * times), the essay questions' snapshots and essay scores (cost, tokens, provider), a
 * recommendation with five items per completed assessment, a student's feedback on one of its
 * items for a fifth of them, and per completed assessment the processing metrics the
 * recommendations projection records in `metric_snapshots` (total, GPT and RAG latency, token
 * cost). Responses and rule scores are not generated: no dashboard query reads them.
 */
export interface FillOptions {
  assessments: number;
  students: number;
  days: number;
}

export async function fillDashboardData(pool: Pool, options: FillOptions): Promise<Record<string, number>> {
  const { assessments, students, days } = options;
  const client = await pool.connect();
  try {
    await client.query('SELECT setseed(0.42)');
    await client.query(
      `INSERT INTO users (id, email, role, status)
       SELECT overlay(overlay(md5('bench-user-' || g) placing '4' from 13) placing '8' from 17)::uuid, 'bench-' || g || '@bench.local', 'student', 'active'
       FROM generate_series(1, $1::int) g`,
      [students],
    );
    await client.query(`CREATE TEMP TABLE bench_roles AS
      SELECT row_number() OVER (ORDER BY r.id) AS n, r.id,
             (SELECT count(*) FROM questions q WHERE q.role_id = r.id AND q.active)::int AS total
      FROM role_catalog r WHERE EXISTS (SELECT 1 FROM questions q WHERE q.role_id = r.id)`);
    await client.query(`CREATE TEMP TABLE bench_essays AS
      SELECT q.id, q.role_id, q.prompt, q.rubric, q.weight, q.version,
             row_number() OVER (PARTITION BY q.role_id ORDER BY q.id) AS position
      FROM questions q WHERE q.question_type = 'essay' AND q.active`);
    await client.query(`CREATE TEMP TABLE bench_credentials AS
      SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, title FROM credential_catalog`);

    await client.query(
      `CREATE TEMP TABLE gen AS
       SELECT g, overlay(overlay(md5('bench-assessment-' || g) placing '4' from 13) placing '8' from 17)::uuid AS id,
              overlay(overlay(md5('bench-user-' || (1 + (g * 7919) % $2::int)) placing '4' from 13) placing '8' from 17)::uuid AS user_id,
              random() AS r_status, random() AS r_degraded, random() AS r_answered, random() AS r_submit,
              random() AS r_done,
              now() - random() * ($3::int * interval '1 day') AS started_at
       FROM generate_series(1, $1::int) g`,
      [assessments, students, days],
    );
    await client.query(`
      INSERT INTO assessments (id, user_id, role_id, status, degraded, answered, total, started_at, expires_at,
                               submitted_at, completed_at, version, created_at, updated_at)
      SELECT id, user_id, role_id, status, degraded,
             CASE WHEN status = 'in_progress' THEN floor(r_answered * total)::int ELSE total END, total,
             started_at, started_at + interval '2 hours', submitted_at, completed_at, 12, started_at,
             coalesce(completed_at, submitted_at, started_at)
      FROM (
        SELECT x.*,
               CASE WHEN x.status <> 'in_progress' THEN x.started_at + (5 + x.r_submit * 35) * interval '1 minute' END
                 AS submitted_at
        FROM (
          SELECT gen.*, br.id AS role_id, br.total,
                 CASE WHEN r_status < 0.12 THEN 'in_progress' WHEN r_status < 0.17 THEN 'awaiting_async'
                      WHEN r_status < 0.20 THEN 'failed' ELSE 'completed' END AS status,
                 r_status >= 0.12 AND r_degraded < 0.08 AS degraded
          FROM gen JOIN bench_roles br ON br.n = 1 + gen.g % (SELECT count(*) FROM bench_roles)
        ) x
      ) y
      CROSS JOIN LATERAL (
        SELECT CASE WHEN y.status IN ('completed', 'failed')
                    THEN y.submitted_at + (1500 + power(y.r_done, 3) * 60000) * interval '1 millisecond' END
                 AS completed_at
      ) c`);
    await client.query(`
      INSERT INTO assessment_question_snapshots (id, assessment_id, question_id, position, prompt, rubric,
                                                 question_type, weight, required, version)
      SELECT overlay(overlay(md5(a.id::text || '/' || e.id::text) placing '4' from 13) placing '8' from 17)::uuid, a.id, e.id, e.position, e.prompt, e.rubric, 'essay',
             e.weight, TRUE, e.version
      FROM assessments a JOIN bench_essays e ON e.role_id = a.role_id`);
    await client.query(`
      INSERT INTO essay_scores (id, assessment_id, question_snapshot_id, question_id, status, score, max_score,
                                provider, model, prompt_version, degraded, needs_review, tokens_in, tokens_out,
                                latency_ms, cost_cents, response_payload, revision, version, created_at, updated_at)
      SELECT overlay(overlay(md5(s.id::text || '/essay') placing '4' from 13) placing '8' from 17)::uuid, a.id, s.id, s.question_id, st.status,
             CASE WHEN st.status <> 'failed' THEN round((random() * s.weight)::numeric, 2) END, s.weight,
             CASE WHEN a.degraded THEN 'offline' ELSE 'openai' END,
             CASE WHEN a.degraded THEN 'all-minilm-l6-v2' ELSE 'gpt-4o-mini' END, 'v3', a.degraded,
             random() < 0.05, 400 + floor(random() * 500)::int, 100 + floor(random() * 200)::int,
             800 + floor(random() * 4200)::int,
             CASE WHEN st.status = 'failed' THEN NULL WHEN a.degraded THEN 0
                  ELSE round((0.01 + random() * 0.03)::numeric, 6) END,
             jsonb_build_object('criteria', jsonb_build_array(), 'rationale', 'Generated for the benchmark',
                                'flags', jsonb_build_array()),
             1, 12, a.submitted_at + interval '3 seconds', a.submitted_at + interval '3 seconds'
      FROM assessments a
      JOIN assessment_question_snapshots s ON s.assessment_id = a.id
      CROSS JOIN LATERAL (
        SELECT CASE WHEN random() < 0.04 THEN 'failed' WHEN random() < 0.07 THEN 'overridden' ELSE 'scored' END
                 AS status
        WHERE a.id IS NOT NULL
      ) st
      WHERE a.submitted_at IS NOT NULL`);
    await client.query(`
      INSERT INTO recommendations (id, assessment_id, role_id, summary, degraded, status, generated_at, completed_at,
                                   created_at)
      SELECT overlay(overlay(md5('bench-reco-' || a.id::text) placing '4' from 13) placing '8' from 17)::uuid, a.id, a.role_id, 'Generated for the benchmark', a.degraded, 'ready',
             a.completed_at, a.completed_at, a.completed_at
      FROM assessments a WHERE a.status = 'completed'`);
    await client.query(`
      INSERT INTO recommendation_items (id, recommendation_id, credential_id, title, confidence, rationale, position)
      SELECT overlay(overlay(md5(r.id::text || '/' || k) placing '4' from 13) placing '8' from 17)::uuid, r.id, c.id, c.title, round((0.9 - k * 0.1)::numeric, 3),
             'Generated for the benchmark', k + 1
      FROM recommendations r
      CROSS JOIN generate_series(0, 4) k
      JOIN bench_credentials c
        ON c.n = (abs(hashtext(r.id::text)) + k * 7) % (SELECT count(*) FROM bench_credentials)`);
    await client.query(`
      INSERT INTO recommendation_feedback (id, recommendation_id, assessment_id, credential_id, submitted_by,
                                           submitted_by_role, relevance_score, acceptance_status, comments, revision,
                                           submitted_at, created_at)
      SELECT overlay(overlay(md5('bench-feedback-' || r.id::text) placing '4' from 13) placing '8' from 17)::uuid, r.id, a.id, i.credential_id,
             a.user_id, 'student', 1 + floor(random() * 5)::int,
             CASE WHEN v.x < 0.5 THEN 'accepted' WHEN v.x < 0.75 THEN 'rejected' ELSE 'pending' END, NULL,
             1 + floor(random() * 2)::int, v.at, v.at
      FROM recommendations r JOIN assessments a ON a.id = r.assessment_id
      CROSS JOIN LATERAL (SELECT random() AS x, r.generated_at + random() * interval '3 days' AS at,
                                 1 + floor(random() * 5)::int AS position
                          WHERE r.id IS NOT NULL) v
      JOIN recommendation_items i ON i.recommendation_id = r.id AND i.position = v.position
      WHERE random() < 0.2`);
    await client.query(`
      INSERT INTO metric_snapshots (id, assessment_id, metric_type, value, context, captured_at)
      SELECT overlay(overlay(md5(a.id::text || '/' || m.metric) placing '4' from 13) placing '8' from 17)::uuid, a.id, m.metric,
             CASE WHEN m.metric = 'token_cost_cents' THEN round((m.base + random() * m.spread)::numeric, 6)
                  ELSE round(m.base + random() * m.spread) END,
             jsonb_build_object('recommendation_id', r.id), r.generated_at
      FROM assessments a JOIN recommendations r ON r.assessment_id = a.id
      CROSS JOIN (VALUES ('total_latency_ms', 1500, 60000), ('gpt_latency_ms', 800, 5200), ('rag_latency_ms', 20, 180),
                         ('token_cost_cents', 0.01, 0.09)) AS m(metric, base, spread)
      WHERE NOT (a.degraded AND m.metric = 'gpt_latency_ms')`);
    for (const table of ['gen', 'bench_roles', 'bench_essays', 'bench_credentials']) {
      await client.query(`DROP TABLE ${table}`);
    }
    const counts: Record<string, number> = {};
    for (const table of [
      'assessments',
      'assessment_question_snapshots',
      'essay_scores',
      'recommendations',
      'recommendation_items',
      'recommendation_feedback',
      'metric_snapshots',
    ]) {
      const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      counts[table] = rows[0]!.n;
    }
    await client.query('VACUUM ANALYZE');
    return counts;
  } finally {
    client.release();
  }
}
