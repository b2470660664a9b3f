// The @nestjs/swagger CLI plugin as a ts-jest AST transformer, with the options nest-cli.json gives
// `nest build`, so the OpenAPI document an e2e test sees is the one the built app serves
// (docs/api.md, "OpenAPI document"). The plugin needs the type checker: the e2e project compiles
// with `isolatedModules: false` (jest.config.js).
const { createHash } = require('node:crypto');
const { before } = require('@nestjs/swagger/plugin');
const nestCli = require('../../nest-cli.json');
const swaggerVersion = require('@nestjs/swagger/package.json').version;

const plugin = nestCli.compilerOptions.plugins.find((entry) => entry.name === '@nestjs/swagger');
const options = plugin.options;

module.exports = {
  name: 'nestjs-swagger-plugin',
  // ts-jest keys its compile cache on name + version: a new plugin release or option busts it.
  version: createHash('sha1').update(`${swaggerVersion}:${JSON.stringify(options)}`).digest('hex').slice(0, 12),
  factory: (tsCompiler) => {
    if (!tsCompiler.program) {
      throw new Error('The @nestjs/swagger plugin needs a type-checked program: compile with isolatedModules: false.');
    }
    return before({ ...options }, tsCompiler.program);
  },
};
