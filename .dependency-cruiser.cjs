// The allowed directions between the folders of src/ (docs/architecture.md draws them).
// `npm run deps` checks them with type-only imports included; CI fails on any violation.
//
//   entry points      main, app (the composition root), cli, workers
//   transports        http, realtime                 -> services.ts and everything below
//   services          turns, files -> rooms          -> adapters, domain, base
//   adapters / ports  events, llm, tools, db, infra, auth
//   rules             domain
//   base              config, shared, contract (contract: no server imports at all)
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'contract-stands-alone',
      comment: 'The wire contract is shared with clients: it imports nothing of the server.',
      severity: 'error',
      from: { path: '^src/(contract|client)/' },
      to: { path: '^src/', pathNot: '^src/(contract|client)/' },
    },
    {
      name: 'base-imports-base',
      comment: 'config, shared and contract are the floor: they import only each other.',
      severity: 'error',
      from: { path: '^src/(config|shared)/' },
      to: { path: '^src/', pathNot: '^src/(config|shared|contract)/' },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/', pathNot: '^src/(domain|shared|contract|config)/' },
    },
    {
      name: 'adapters-below-services',
      comment: 'Adapters and ports never reach up into application services or transports.',
      severity: 'error',
      from: { path: '^src/(events|llm|tools|db|infra|auth)/' },
      to: { path: '^src/(rooms|turns|files|http|realtime|services\\.ts|app\\.ts|main\\.ts|cli)' },
    },
    {
      name: 'rooms-below-turns-and-files',
      severity: 'error',
      from: { path: '^src/rooms/' },
      to: { path: '^src/(turns|files)/' },
    },
    {
      name: 'turns-and-files-independent',
      severity: 'error',
      from: { path: '^src/(turns|files)/' },
      // Within one folder is fine; across the two is not.
      to: { path: '^src/(turns|files)/', pathNot: '^src/$1/' },
    },
    {
      name: 'services-below-transports',
      comment: 'Services never see a transport; the composition root builds transports last.',
      severity: 'error',
      from: { path: '^src/(rooms|turns|files|events|llm|tools|db|infra|auth|domain|config|shared|contract)/' },
      to: { path: '^src/(http|realtime|services\\.ts|app\\.ts|main\\.ts|cli)' },
    },
    {
      name: 'transports-independent',
      severity: 'error',
      from: { path: '^src/(http|realtime)/' },
      to: { path: '^src/(http|realtime)/', pathNot: '^src/$1/' },
    },
    {
      name: 'only-entry-points-import-the-root',
      severity: 'error',
      from: { pathNot: '^src/main\\.ts$' },
      to: { path: '^src/(app|main)\\.ts$' },
    },
    {
      name: 'socket-io-only-in-realtime',
      comment: 'The room event pipeline needs Redis, not Socket.IO; only the socket transport (and the client SDK) use it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(realtime|client)/|^src/app\\.ts$' },
      to: { path: 'node_modules/(socket\\.io|@socket\\.io)/' },
    },
    {
      name: 'express-only-in-http',
      severity: 'error',
      from: { path: '^(src|workers)/', pathNot: '^src/http/' },
      to: { path: 'node_modules/(express|multer)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '\\.mjs$' },
  },
};
