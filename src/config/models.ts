import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * A model alias names an OpenAI-compatible endpoint, or the offline `demo` model.
 * Agents refer to aliases, never to endpoints, so keys and prices live in one place.
 */
export type ModelAlias =
  | {
      kind: 'openai';
      alias: string;
      baseUrl?: string;
      model: string;
      /** The resolved key (read from the variable that `apiKeyEnv` names). Never logged. */
      apiKey?: string;
      apiKeyEnv?: string;
      inputPricePerMillion: number;
      outputPricePerMillion: number;
    }
  | { kind: 'demo'; alias: string; inputPricePerMillion: 0; outputPricePerMillion: 0 };

const aliasName = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'alias names are 1-64 letters, digits, . _ -');

const entrySchema = z.union([
  z.object({ kind: z.literal('demo') }).strict(),
  z
    .object({
      kind: z.literal('openai').default('openai'),
      baseUrl: z.string().url().optional(),
      model: z.string().min(1).max(200),
      apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
      inputPricePerMillion: z.number().nonnegative().default(0),
      outputPricePerMillion: z.number().nonnegative().default(0),
    })
    .strict(),
]);

const tableSchema = z.record(aliasName, entrySchema);

export const DEMO_ALIAS: ModelAlias = { kind: 'demo', alias: 'demo', inputPricePerMillion: 0, outputPricePerMillion: 0 };

/**
 * Parses MODELS (inline JSON or the path of a JSON file). Without MODELS but with
 * OPENAI_API_KEY, an `openai` alias is made for OPENAI_BASE_URL. `demo` is always there.
 */
export function parseModelTable(
  raw: string | undefined,
  opts: { openaiApiKey?: string; openaiBaseUrl?: string; env: Record<string, string | undefined> },
): Record<string, ModelAlias> {
  const table: Record<string, ModelAlias> = { demo: DEMO_ALIAS };
  if (!raw) {
    if (opts.openaiApiKey) {
      table.openai = {
        kind: 'openai',
        alias: 'openai',
        baseUrl: opts.openaiBaseUrl,
        model: 'gpt-4o-mini',
        apiKey: opts.openaiApiKey,
        apiKeyEnv: 'OPENAI_API_KEY',
        inputPricePerMillion: 0.15,
        outputPricePerMillion: 0.6,
      };
    }
    return table;
  }
  let text = raw.trim();
  if (!text.startsWith('{')) {
    if (!existsSync(text)) throw new Error('must be a JSON object or the path of a JSON file');
    text = readFileSync(text, 'utf8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('is not valid JSON');
  }
  const parsed = tableSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  for (const [alias, entry] of Object.entries(parsed.data)) {
    if (entry.kind === 'demo') {
      table[alias] = { ...DEMO_ALIAS, alias };
      continue;
    }
    const apiKeyEnv = entry.apiKeyEnv ?? 'OPENAI_API_KEY';
    table[alias] = {
      kind: 'openai',
      alias,
      baseUrl: entry.baseUrl ?? opts.openaiBaseUrl,
      model: entry.model,
      apiKey: opts.env[apiKeyEnv],
      apiKeyEnv,
      inputPricePerMillion: entry.inputPricePerMillion,
      outputPricePerMillion: entry.outputPricePerMillion,
    };
  }
  return table;
}
