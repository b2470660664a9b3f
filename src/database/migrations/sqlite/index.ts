import { CreateUsersAndRefreshTokens1795615000000 } from './1795615000000-CreateUsersAndRefreshTokens';
import { CreateAiUsage1795615000001 } from './1795615000001-CreateAiUsage';

/** SQLite (embedded) migrations in the order they run. */
export const SQLITE_MIGRATIONS: Function[] = [CreateUsersAndRefreshTokens1795615000000, CreateAiUsage1795615000001];
