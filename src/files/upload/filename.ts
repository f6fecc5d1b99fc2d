/** Upload names come from clients: keep only a safe, displayable base name that fits the column. */

const MAX_FILENAME_CHARS = 255;
// C0/C1 control characters, and the bidi overrides that can disguise an extension ("evil\u202Etxt.exe").
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** The lower-case extension without its dot, or '' when there is none. */
export function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  if (dot <= 0 || dot === filename.length - 1) return '';
  return filename.slice(dot + 1).toLowerCase();
}

/** Strips any directory part and unsafe characters, and shortens the stem (not the extension) to 255 chars. */
export function sanitizeFilename(raw: string): string {
  const base = raw.split(/[\\/]/).pop() ?? '';
  let name = base.normalize('NFC').replace(UNSAFE_CHARS, '').trim();
  if (name === '' || name === '.' || name === '..') name = 'file';
  if (name.length <= MAX_FILENAME_CHARS) return name;
  const ext = extensionOf(name);
  const suffix = ext && ext.length < 16 ? `.${ext}` : '';
  return name.slice(0, MAX_FILENAME_CHARS - suffix.length) + suffix;
}
