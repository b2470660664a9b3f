import { MigrationInterface } from 'typeorm';
import { CreateUsersAndRefreshTokens1795615000000 } from './1795615000000-CreateUsersAndRefreshTokens';
import { CreateAiUsage1795615000001 } from './1795615000001-CreateAiUsage';
import { CreateIpTables1795615000100 } from './1795615000100-CreateIpTables';
import { CreateAnalyses1795615000200 } from './1795615000200-CreateAnalyses';
import { AnalysesAreJobs1795615000300 } from './1795615000300-AnalysesAreJobs';
import { CreateAiUsageReservations1795615000301 } from './1795615000301-CreateAiUsageReservations';
import { CreateWebhooks1795615000400 } from './1795615000400-CreateWebhooks';
import { IndexFinishedWebhookDeliveries1795615000401 } from './1795615000401-IndexFinishedWebhookDeliveries';
import { CreateIdempotencyKeys1795615000500 } from './1795615000500-CreateIdempotencyKeys';
import { AccountsIdentitiesAndRevocations1795615000600 } from './1795615000600-AccountsIdentitiesAndRevocations';
import { IpReportWeightAndAllowlist1795615000700 } from './1795615000700-IpReportWeightAndAllowlist';
import { CreateIpLookups1795615000701 } from './1795615000701-CreateIpLookups';
import { AnalysesPerceptualHashAndModeration1795615000800 } from './1795615000800-AnalysesPerceptualHashAndModeration';
import { AnalysesNearDuplicateConfirmation1795615000801 } from './1795615000801-AnalysesNearDuplicateConfirmation';

/** PostgreSQL migrations in the order they run. */
export const POSTGRES_MIGRATIONS: Array<new () => MigrationInterface> = [
  CreateUsersAndRefreshTokens1795615000000,
  CreateAiUsage1795615000001,
  CreateIpTables1795615000100,
  CreateAnalyses1795615000200,
  AnalysesAreJobs1795615000300,
  CreateAiUsageReservations1795615000301,
  CreateWebhooks1795615000400,
  IndexFinishedWebhookDeliveries1795615000401,
  CreateIdempotencyKeys1795615000500,
  AccountsIdentitiesAndRevocations1795615000600,
  IpReportWeightAndAllowlist1795615000700,
  CreateIpLookups1795615000701,
  AnalysesPerceptualHashAndModeration1795615000800,
  AnalysesNearDuplicateConfirmation1795615000801,
];
