/**
 * The public event types partners may receive (on the public topic, or by webhook). They are a
 * contract: a name once published is never renamed or removed. Kept in the domain, because a
 * webhook subscription's `event_types` are validated against this list by its decider;
 * `services/publisher/publicEvents.ts` re-exports it.
 */
export const publicEventTypes = [
  'assessment.completed',
  'assessment.failed',
  'recommendation.feedback_received',
] as const;

export type PublicEventType = (typeof publicEventTypes)[number];

export function isPublicEventType(value: unknown): value is PublicEventType {
  return typeof value === 'string' && (publicEventTypes as readonly string[]).includes(value);
}
