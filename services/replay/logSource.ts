import type { MessageCodec } from '../messaging/messageCodec';
import { DependencyUnavailableError } from '../platform/errors';
import type { Platform } from '../platform/platform';
import { assessmentAt, type AssessmentAt } from './assessmentReplay';
import { EventLog } from './eventLog';

/** Replays one assessment from the event log (see assessmentAt). */
export type AssessmentReplay = (assessmentId: string, asOf?: Date) => Promise<AssessmentAt>;

/**
 * An AssessmentReplay over the process's own Kafka clients and codec (the platform's): each call
 * opens a group-less partition reader for its read and closes it after, so concurrent calls never
 * share an assignment. Kafka or the registry failing is a 503.
 */
export function kafkaAssessmentReplay(
  platform: Pick<Platform, 'kafka' | 'kafkaAdmin' | 'topics' | 'logger'>,
  codec: MessageCodec,
): AssessmentReplay {
  return async (assessmentId, asOf) => {
    let log: EventLog | undefined;
    try {
      log = await EventLog.open({ ...platform, codec, name: 'api-replay' });
      return await assessmentAt(log, assessmentId, asOf);
    } catch (err) {
      platform.logger.warn({ err, assessment_id: assessmentId }, 'replaying an assessment from the log failed');
      throw new DependencyUnavailableError('kafka', 'the event log cannot be read now; retry later');
    } finally {
      await log?.close().catch(() => undefined);
    }
  };
}
