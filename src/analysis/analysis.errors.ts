import { AppError, ErrorCode, statusForCode } from '../common/errors/app-error';
import { problemType, titleFor } from '../common/errors/problem';
import type { StoredAnalysisProblem } from './analysis.types';

/** The user has used AI_DAILY_LIMIT_PER_USER upstream analyses today (UTC); retry after midnight UTC. */
export class DailyQuotaExceededError extends AppError {
  constructor(dailyLimit: number, secondsUntilReset: number) {
    super(
      ErrorCode.QuotaExceeded,
      `Daily AI analysis quota of ${dailyLimit} used up; it resets at midnight UTC. Answers from cache stay free.`,
      { retryAfterSeconds: secondsUntilReset },
    );
    this.name = 'DailyQuotaExceededError';
  }
}

/** A job that kept failing for reasons of its own (not the provider's) and was given up. */
export class AnalysisAbandonedError extends AppError {
  constructor(attempts: number) {
    super(ErrorCode.JobFailed, `The analysis could not be completed after ${attempts} attempts.`);
    this.name = 'AnalysisAbandonedError';
  }
}

/** The problem a failed job keeps in its row (`error`), from the error it failed with. */
export function problemOf(error: AppError): StoredAnalysisProblem {
  const status = statusForCode(error.code);
  return {
    type: problemType(error.code),
    title: titleFor(status),
    status,
    detail: error.detail,
    ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
  };
}

/**
 * The error a waiting upload answers for its failed job: the same problem the job stored, not
 * reported to Sentry again (the worker reported the failure once).
 */
export function errorOf(problem: StoredAnalysisProblem): AppError {
  const code =
    Object.values(ErrorCode).find((candidate) => problemType(candidate) === problem.type) ?? ErrorCode.JobFailed;
  return new AppError(code, problem.detail, { retryAfterSeconds: problem.retryAfterSeconds, reported: true });
}
