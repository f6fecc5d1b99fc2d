/**
 * Models asked for JSON often wrap it in ```json fences or add a sentence around it.
 * This finds the JSON object in such an answer, so callers can validate it with zod.
 */

/** The first JSON object in `text` (fenced or bare), parsed; undefined when there is none. */
export function extractJsonObject(text: string): unknown {
  const fenced = /```(?:json|JSON)?\s*\n?([\s\S]*?)```/.exec(text);
  const candidates = fenced ? [fenced[1]!, text] : [text];
  for (const candidate of candidates) {
    const value = parseFirstObject(candidate);
    if (value !== undefined) return value;
  }
  return undefined;
}

function parseFirstObject(text: string): unknown {
  const trimmed = text.trim();
  try {
    const whole: unknown = JSON.parse(trimmed);
    if (whole !== null && typeof whole === 'object' && !Array.isArray(whole)) return whole;
  } catch {
    // not JSON as a whole; look for a balanced object inside
  }
  for (let start = trimmed.indexOf('{'); start !== -1; start = trimmed.indexOf('{', start + 1)) {
    const end = matchingBrace(trimmed, start);
    if (end === -1) continue;
    try {
      return JSON.parse(trimmed.slice(start, end + 1)) as unknown;
    } catch {
      // not valid JSON; try the next opening brace
    }
  }
  return undefined;
}

/** Index of the brace closing the one at `start`, skipping braces inside strings; -1 if none. */
function matchingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) return i;
  }
  return -1;
}
