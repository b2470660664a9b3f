// Tests always run in UTC so "per UTC day" logic and timestamps are deterministic.
process.env.TZ = 'UTC';

const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
// e2e specs read the OpenAPI document: compile them with the @nestjs/swagger CLI plugin, as `nest build`
// does (nest-cli.json). The plugin needs the type checker, so no isolatedModules here; type errors
// are still left to `npm run typecheck`, as in the unit project.
const tsJestWithSwaggerPlugin = [
  'ts-jest',
  {
    tsconfig: { isolatedModules: false },
    diagnostics: false,
    astTransformers: { before: ['<rootDir>/test/support/openapi-plugin.transformer.js'] },
  },
];

/** @type {import('jest').Config} */
module.exports = {
  // One value for both projects (Jest reads testTimeout once, not per project): e2e files boot
  // the app, its models and fakes on two shared cores.
  testTimeout: 60000,
  // A straggling socket in one suite must not hang CI after every test has reported.
  forceExit: true,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      // Sentry instruments globals; Jest's between-file globals cleanup then overflows the stack.
      testEnvironmentOptions: { globalsCleanup: 'off' },
      rootDir: '.',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      // Sentry instruments globals; Jest's between-file globals cleanup then overflows the stack.
      testEnvironmentOptions: { globalsCleanup: 'off' },
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform: { '^.+\\.ts$': tsJestWithSwaggerPlugin },
    },
  ],
};
