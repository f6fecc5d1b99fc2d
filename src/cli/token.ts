// `npm run token -- --sub alice [--name Alice] [--bot] [--ttl 3600]` prints a token the server accepts.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config';
import { resolveJwtSecret, signToken } from '../auth/jwt';

function main() {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      name: { type: 'string' },
      bot: { type: 'boolean', default: false },
      ttl: { type: 'string', default: String(24 * 3600) },
    },
  });
  if (!values.sub) {
    console.error('usage: npm run token -- --sub alice [--name Alice] [--bot] [--ttl SECONDS]');
    process.exit(2);
  }
  const config = loadConfig(process.env);
  const secret = resolveJwtSecret(config);
  if (!secret) {
    console.error('JWT_PUBLIC_KEY is set: tokens are issued by your identity provider, not by this command');
    process.exit(2);
  }
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0) {
    console.error('--ttl must be a positive number of seconds');
    process.exit(2);
  }
  process.stdout.write(
    signToken(
      secret,
      { sub: values.sub, name: values.name, kind: values.bot ? 'bot' : 'human' },
      { issuer: config.jwt.issuer, audience: config.jwt.audience, expiresInSeconds: ttl },
    ) + '\n',
  );
}

try {
  main();
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : (err as Error).message);
  process.exit(1);
}
