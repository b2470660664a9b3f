import { AppError, ErrorCode } from '../common/errors/app-error';

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
