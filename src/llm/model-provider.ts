import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { ModelAlias } from '../config/models';
import { BoundedCache } from '../shared/bounded-cache';
import { AppError } from '../shared/errors';
import type { ModelPrices } from './cost';
import { DemoChatModel, type DemoModelOptions } from './demo-model';
import { createOpenAIChatModel } from './openai-model';

/**
 * Agents, the manager and the summary name a model alias; this turns an alias into a LangChain
 * chat model. Everything above this interface is provider-agnostic.
 */

export interface ChatModelOptions {
  /** Cap on generated tokens for one call. */
  maxTokens: number;
  /** Connection timeout handed to the HTTP client; the caller enforces the whole-call deadline. */
  timeoutMs: number;
}

export interface ModelDescription {
  alias: string;
  kind: 'openai' | 'demo';
  /** The provider's model name, as usage records store it. */
  model: string;
  prices: ModelPrices;
}

export interface ModelProvider {
  has(alias: string): boolean;
  /** Throws UNKNOWN_MODEL_ALIAS for an alias that is not configured. */
  describe(alias: string): ModelDescription;
  /**
   * The model of an alias with these options. Made once and shared by every call with the same
   * alias and options (agents, the manager and the summary differ by their token caps): a chat
   * model holds no state of a call, and building one (its HTTP client) costs more than a call's
   * own work on a short answer.
   */
  chatModel(alias: string, opts: ChatModelOptions): BaseChatModel;
}

export interface ModelProviderOptions {
  /**
   * Retries of a failed request before any output arrived (429, 5xx, connection refused).
   * A stream cut after output started is never retried: the user already saw part of it.
   */
  maxRetries?: number;
  demo?: DemoModelOptions;
}

const MAX_CACHED_MODELS = 64;

/** The provider for a table of aliases (AppConfig.models): OpenAI-compatible endpoints and the offline demo. */
export function createModelProvider(table: Record<string, ModelAlias>, options: ModelProviderOptions = {}): ModelProvider {
  const lookup = (alias: string): ModelAlias => {
    const entry = table[alias];
    if (!entry) throw new AppError('UNKNOWN_MODEL_ALIAS', `Unknown model alias "${alias}"`, { alias, known: Object.keys(table) });
    return entry;
  };
  // Aliases times the few option sets of the config: the bound only guards against a caller that varies them.
  const models = new BoundedCache<string, BaseChatModel>(MAX_CACHED_MODELS);
  return {
    has: (alias) => alias in table,
    describe(alias) {
      const entry = lookup(alias);
      return {
        alias,
        kind: entry.kind,
        model: entry.kind === 'demo' ? 'demo' : entry.model,
        prices: { inputPerMillion: entry.inputPricePerMillion, outputPerMillion: entry.outputPricePerMillion },
      };
    },
    chatModel(alias, opts) {
      const entry = lookup(alias);
      return models.getOrCreate(JSON.stringify([alias, opts.maxTokens, opts.timeoutMs]), () =>
        entry.kind === 'demo'
          ? new DemoChatModel({ ...options.demo, maxTokens: opts.maxTokens })
          : createOpenAIChatModel(entry, { ...opts, maxRetries: options.maxRetries ?? 1 }),
      );
    },
  };
}
