import type { AnalysisProblem, AnalysisView, StoredAnalysisProblem } from './analysis.types';
import type { Analysis } from './entities/analysis.entity';

/** An analysis as the API returns it (docs/api.md, Image analysis), whatever its job's state. */
export function toView(analysis: Analysis): AnalysisView {
  return {
    id: analysis.id,
    status: analysis.status,
    sha256: analysis.sha256,
    cached: analysis.cached,
    cache: analysis.cached ? (analysis.cacheKind ?? 'exact') : null,
    provider: analysis.provider,
    model: analysis.model,
    prompt: analysis.prompt,
    result: analysis.result,
    moderation: analysis.moderation ?? null,
    error: analysis.error && publicProblem(analysis.error),
    image: {
      format: analysis.imageFormat,
      width: analysis.imageWidth,
      height: analysis.imageHeight,
      bytes: analysis.imageBytes,
    },
    metadata: analysis.metadata,
    usage: { inputTokens: analysis.inputTokens, outputTokens: analysis.outputTokens, costUsd: analysis.costUsd },
    createdAt: analysis.createdAt.toISOString(),
    completedAt: analysis.completedAt?.toISOString() ?? null,
  };
}

/** Where clients find an analysis: the `Location` of a 201 or 202. */
export function locationOf(analysis: Pick<Analysis, 'id'>): string {
  return `/v1/analyses/${analysis.id}`;
}

function publicProblem({ type, title, status, detail }: StoredAnalysisProblem): AnalysisProblem {
  return { type, title, status, detail };
}
