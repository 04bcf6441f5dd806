import type { EvidenceTrace, RecommendationSummary } from '../../../../domain/assessment/assessment';
import type { OpenAiCallOptions } from '../../openai/client';
import type { PriceTable } from '../../openai/pricing';
import type { BreakerState } from '../../openai/resilience';
import { StructuredChat } from '../../openai/structuredChat';
import type { RankedCredential } from '../engine';
import type { StudentNeeds } from '../studentNeeds';
import { buildRationaleMessages, RATIONALE_PROMPT_VERSION } from './rationalePrompt';
import { interpretRationaleReply, RATIONALE_SCHEMA_NAME, rationaleSchema } from './rationaleReply';

/**
 * Rationales and the assessment summary written by the LLM (structured output), each claim
 * citing the evidence traces it rests on. Inline labels ([T3]) are turned into the traces' ids,
 * and each item's `source_trace_ids` are the traces it cited. Failures reject as the
 * StructuredChat's do; the caller then composes the rationales itself (degraded).
 */
export interface RationaleWriterOptions extends OpenAiCallOptions {
  model: string;
  prices?: PriceTable | string | undefined;
  /** Default 1500. */
  maxOutputTokens?: number;
}

export interface WrittenRationales {
  items: Map<string, { rationale: string; source_trace_ids: string[] }>;
  summary: RecommendationSummary;
  model: string;
  prompt_version: string;
  tokens_in: number;
  tokens_out: number;
  cost_cents: number;
  latency_ms: number;
}

export class RationaleWriter {
  readonly provider = 'openai';
  private readonly chat: StructuredChat;

  constructor(private readonly options: RationaleWriterOptions) {
    this.chat = new StructuredChat({ ...options, name: 'openai-rationale' });
  }

  async write(
    input: {
      role_name: string;
      needs: StudentNeeds;
      ranked: readonly (RankedCredential & { skills: string[] })[];
      traces: readonly EvidenceTrace[];
    },
    signal?: AbortSignal,
  ): Promise<WrittenRationales> {
    const traceLabels = input.traces.map((_, i) => `T${i + 1}`);
    const credentialLabels = input.ranked.map((_, i) => `C${i + 1}`);
    const idOfLabel = new Map(traceLabels.map((label, i) => [label, input.traces[i]!.trace_id]));
    const outcome = await this.chat.call(
      {
        model: this.options.model,
        temperature: 0,
        n: 1,
        max_completion_tokens: this.options.maxOutputTokens ?? 1500,
        messages: buildRationaleMessages({
          role_name: input.role_name,
          skills: input.needs.profile.skills.map((s) => ({
            skill: s.skill,
            proficiency: s.proficiency,
            gap_share: s.gap_share,
          })),
          credentials: input.ranked.map((r, i) => ({
            label: credentialLabels[i]!,
            title: r.title,
            skills: r.skills,
            covers: r.covers.map((c) => ({ skill: c.skill, proficiency: c.proficiency })),
            confidence: r.confidence,
          })),
          traces: input.traces.map((t, i) => ({ ...t, label: traceLabels[i]! })),
        }),
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: RATIONALE_SCHEMA_NAME,
            strict: true,
            schema: rationaleSchema(credentialLabels, traceLabels),
          },
        },
      },
      (content, usage) => interpretRationaleReply(content, credentialLabels, traceLabels, usage),
      { signal, logFields: { stage: 'rationale' } },
    );
    const withIds = (text: string) => text.replace(/\[(T\d+)\]/g, (_, label: string) => `[${idOfLabel.get(label)}]`);
    const reply = outcome.value;
    const items = new Map(
      input.ranked.map((r, i) => {
        const written = reply.items[credentialLabels[i]!]!;
        return [
          r.credential_id,
          {
            rationale: withIds(written.rationale).slice(0, 4000),
            source_trace_ids: written.citations.map((label) => idOfLabel.get(label)!),
          },
        ];
      }),
    );
    return {
      items,
      summary: {
        text: withIds(reply.summary.text).slice(0, 4000),
        strengths: reply.summary.strengths,
        gaps: reply.summary.gaps,
        next_steps: reply.summary.next_steps,
      },
      model: outcome.model.slice(0, 64),
      prompt_version: RATIONALE_PROMPT_VERSION,
      tokens_in: outcome.usage.tokens_in,
      tokens_out: outcome.usage.tokens_out,
      cost_cents: outcome.cost_cents,
      latency_ms: outcome.latency_ms,
    };
  }

  breakerState(): BreakerState {
    return this.chat.breakerState();
  }

  close(): void {
    this.chat.close();
  }
}
