import { Analysis } from '../analysis/image/entities/analysis.entity';
import { IpReport } from '../analysis/ip/entities/ip-report.entity';
import { IpSnapshot } from '../analysis/ip/entities/ip-snapshot.entity';
import { AiUsage } from '../analysis/quota/entities/ai-usage.entity';
import { RefreshToken } from '../auth/entities/refresh-token.entity';
import { User } from '../auth/entities/user.entity';

/**
 * Every TypeORM entity of the application, listed explicitly (no path globs: they break between
 * src/ and dist/). Used by the Nest module and by the CLI data source alike.
 */
export const ENTITIES: Array<new () => object> = [User, RefreshToken, AiUsage, IpSnapshot, IpReport, Analysis];
