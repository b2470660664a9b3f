import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import * as Sentry from '@sentry/node';
import type { Request, Response } from 'express';
import { RequestContext } from '../context/request-context';
import { AppError, ErrorCode, statusForCode } from './app-error';
import { FieldError, PROBLEM_CONTENT_TYPE, ProblemDetails, problemType, slugFor, titleFor } from './problem';
import { RawBodyHttpException } from './raw-body.exception';
import { ValidationFailedException } from './validation.exception';
import { isDatabaseUnavailable } from './database-errors';
import { closeIfBodyUnread } from '../http/unread-body';

interface Mapped {
  status: number;
  slug: string;
  detail: string;
  errors?: FieldError[];
  retryAfterSeconds?: number;
  /** Unexpected: logged with its stack and reported to Sentry as an error. */
  unexpected?: boolean;
}

/** Errors raised by Express middleware (body-parser) before Nest routing. */
interface MiddlewareError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
}

/**
 * The one place errors become responses: every error, expected or not, leaves as an RFC 9457
 * problem (docs/api.md, Conventions). 5xx bodies say nothing internal; 5xx are reported to Sentry.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger(ProblemDetailsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    if (exception instanceof RawBodyHttpException && !res.headersSent) {
      res.status(exception.getStatus()).json(exception.body);
      return;
    }
    const mapped = this.map(exception);
    const requestId = RequestContext.requestId() ?? String(req.id ?? '');
    this.report(exception, mapped, requestId);
    if (res.headersSent) {
      res.end();
      return;
    }

    const body: ProblemDetails = {
      type: problemType(mapped.slug),
      title: titleFor(mapped.status),
      status: mapped.status,
      detail: mapped.detail,
      instance: req.originalUrl?.split('?')[0] ?? req.url,
      requestId,
      ...(mapped.errors ? { errors: mapped.errors } : {}),
    };
    if (mapped.retryAfterSeconds !== undefined) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(mapped.retryAfterSeconds))));
    }
    if (mapped.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    // An error answers this request only: no cache or proxy should keep it.
    res.setHeader('Cache-Control', 'no-store');
    // A refusal never reads the body it refused (docs/api.md, "Request hygiene").
    closeIfBodyUnread(req, res);
    res.status(mapped.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  }

  private map(exception: unknown): Mapped {
    if (exception instanceof ValidationFailedException) {
      return { status: 400, slug: ErrorCode.ValidationFailed, detail: exception.message, errors: exception.errors };
    }
    if (exception instanceof AppError) {
      return {
        status: statusForCode(exception.code),
        slug: exception.code,
        detail: exception.detail,
        retryAfterSeconds: exception.retryAfterSeconds,
      };
    }
    if (exception instanceof HttpException) {
      return this.mapHttpException(exception);
    }
    if (isDatabaseUnavailable(exception)) {
      return {
        status: 503,
        slug: ErrorCode.DatabaseUnavailable,
        detail: 'The service is temporarily unavailable; retry shortly.',
        retryAfterSeconds: 5,
      };
    }
    return this.mapMiddlewareError(exception) ?? this.internal();
  }

  private mapHttpException(exception: HttpException): Mapped {
    const status = exception.getStatus();
    if (status >= 500) return { ...this.internal(), status, slug: slugFor(status) };
    const response = exception.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? (response as { message: unknown }).message
        : exception.message;
    const detail = Array.isArray(message) ? message.join('; ') : String(message);
    return { status, slug: slugFor(status), detail };
  }

  private mapMiddlewareError(exception: unknown): Mapped | undefined {
    if (typeof exception !== 'object' || exception === null) return undefined;
    const { type, status, statusCode, expose } = exception as MiddlewareError;
    if (type === 'entity.too.large') {
      return { status: 413, slug: ErrorCode.PayloadTooLarge, detail: 'The request body is too large.' };
    }
    const code = status ?? statusCode;
    if (expose && code !== undefined && code >= 400 && code < 500) {
      return { status: code, slug: slugFor(code), detail: titleFor(code) };
    }
    return undefined;
  }

  private internal(): Mapped {
    return { status: 500, slug: 'internal-error', detail: 'An unexpected error occurred.', unexpected: true };
  }

  private report(exception: unknown, mapped: Mapped, requestId: string): void {
    if (mapped.status < 500) return;
    if (mapped.unexpected) {
      this.logger.error({ msg: 'unhandled error', err: exception });
    } else {
      this.logger.warn({ msg: 'request failed', status: mapped.status, code: mapped.slug, err: exception });
    }
    if (exception instanceof AppError && exception.reported) return;
    Sentry.withScope((scope) => {
      scope.setTag('requestId', requestId);
      const userId = RequestContext.current()?.userId;
      if (userId) scope.setUser({ id: userId });
      scope.setTag('problem', mapped.slug);
      Sentry.captureException(exception);
    });
  }
}
