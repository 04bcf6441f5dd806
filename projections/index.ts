import { assessmentsProjection } from './assessments/projection';
import { auditProjection } from './audit/projection';
import { catalogProjection } from './catalog/projection';
import { commandOutcomesProjection } from './commandOutcomes/commandOutcomes';
import { embeddingArtifactsProjection, essayExamplesProjection, essayScoresProjection } from './essayScores/projection';
import { usersProjection } from './identity/projection';
import { recommendationsProjection } from './recommendations/projection';
import type { Projection } from './runtime/projection';
import { webhookSubscriptionsProjection } from './webhooks/projection';

/** A projection of any record type (event envelopes, command replies), for code that runs them all. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProjection = Projection<any>;

/** Every read model the projections process keeps up to date, one ProjectionRunner each. */
export const allProjections: readonly AnyProjection[] = [
  commandOutcomesProjection,
  usersProjection,
  catalogProjection,
  assessmentsProjection,
  auditProjection,
  essayScoresProjection,
  embeddingArtifactsProjection,
  essayExamplesProjection,
  recommendationsProjection,
  webhookSubscriptionsProjection,
];

export {
  assessmentsProjection,
  auditProjection,
  catalogProjection,
  commandOutcomesProjection,
  embeddingArtifactsProjection,
  essayExamplesProjection,
  essayScoresProjection,
  recommendationsProjection,
  usersProjection,
  webhookSubscriptionsProjection,
};
