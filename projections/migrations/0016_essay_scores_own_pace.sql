-- essay_scores and assessments are separate projections, each applying its own events at its own
-- pace (after downtime, or in a rebuild, essay_scores may run ahead of assessments). Its rows took
-- their assessment and snapshot from the assessments projection's rows, so a score projected
-- before its snapshot row existed was silently dropped. The ids derive from the event instead
-- (snapshotIdOf), and the foreign keys that ordered the two projections' writes go, as 0009 did
-- for recommendations.
ALTER TABLE essay_scores DROP CONSTRAINT IF EXISTS essay_scores_assessment_id_fkey;
ALTER TABLE essay_scores DROP CONSTRAINT IF EXISTS essay_scores_question_snapshot_id_fkey;
