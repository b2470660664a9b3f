import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { buildConfig } from './configuration';
import { RawEnv } from './env-reader';

/**
 * Global, validated configuration. The environment is passed in (main.ts gives process.env, tests
 * give their own record) so nothing outside src/config reads process.env.
 */
@Module({})
export class AppConfigModule {
  static forRoot(env: RawEnv): DynamicModule {
    const config = buildConfig(env);
    return {
      module: AppConfigModule,
      global: true,
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true, isGlobal: true, cache: true, load: [() => config] })],
      exports: [ConfigModule],
    };
  }
}
