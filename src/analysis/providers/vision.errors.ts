import { AppError, ErrorCode } from '../../common/errors/app-error';

/** The model answered, twice, with something that is not the result schema (docs/api.md, Image analysis: 502). */
export class InvalidVisionOutputError extends AppError {
  constructor(
    readonly provider: string,
    readonly reason: string,
  ) {
    super(ErrorCode.UpstreamError, `The AI provider "${provider}" returned an answer in an unexpected format.`);
    this.name = 'InvalidVisionOutputError';
  }
}

/** The model declined to describe the image (a content-policy refusal). */
export class VisionRefusedError extends AppError {
  constructor(readonly provider: string) {
    super(ErrorCode.UpstreamError, `The AI provider "${provider}" declined to analyse this image.`);
    this.name = 'VisionRefusedError';
  }
}
