import { DataSource } from 'typeorm';
import { buildConfig } from '../config/configuration';
import { loadDotEnv } from '../config/dotenv';
import { buildDataSourceOptions } from './database-options';

// Entry point for the TypeORM CLI (`npm run migration:run`): same settings as the app.
loadDotEnv();
export default new DataSource(buildDataSourceOptions(buildConfig(process.env).database));
