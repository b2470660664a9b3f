import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../config/config.types';
import { normaliseEmail } from './email';

/** ADMIN_EMAILS, spelt the way account emails are (NFKC, trimmed, lower-cased). */
@Injectable()
export class AdminEmails {
  private readonly emails: ReadonlySet<string>;

  constructor(config: ConfigService<AppConfig, true>) {
    this.emails = new Set(config.get('auth.adminEmails', { infer: true }).map(normaliseEmail));
  }

  includes(email: string | null): boolean {
    return email !== null && this.emails.has(email);
  }
}
