import { HttpException } from '@nestjs/common';

/**
 * An error response whose body is fixed by another format than problem details — the Terminus
 * health body of a failed readiness check — and is sent as JSON unchanged.
 */
export class RawBodyHttpException extends HttpException {
  constructor(
    readonly body: object,
    status: number,
  ) {
    super(body, status);
  }
}
