/**
 * Real test files, generated in code: PDFs written object by object with a correct xref table,
 * DOCX files zipped by a small zip writer (node:zlib), CSVs, and the bad files the parsers must
 * refuse. Nothing is downloaded and no binary fixture is checked in.
 */
import { createDeflate, createDeflateRaw, crc32, deflateRawSync, deflateSync } from 'node:zlib';

// ---------------------------------------------------------------- zip

export interface ZipEntryInput {
  name: string;
  data: Uint8Array | string;
  /** Default 'deflate'. */
  method?: 'deflate' | 'store';
}

/** An entry deflated ahead of time (for contents too large to hold inflated). */
export interface PreDeflatedEntry {
  name: string;
  compressed: Uint8Array;
  crc: number;
  size: number;
  /** Write this uncompressed size into the headers instead of the real one (a lying zip). */
  declaredSize?: number;
}

const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

function prepare(entry: ZipEntryInput | PreDeflatedEntry): PreDeflatedEntry & { method: number } {
  if ('compressed' in entry) return { ...entry, method: 8 };
  const data = typeof entry.data === 'string' ? Buffer.from(entry.data, 'utf8') : Buffer.from(entry.data);
  const store = entry.method === 'store';
  return { name: entry.name, compressed: store ? data : deflateRawSync(data), crc: crc32(data), size: data.length, method: store ? 0 : 8 };
}

/** A zip archive (no zip64, no data descriptors), as Word and most tools write it. */
export function buildZip(entries: (ZipEntryInput | PreDeflatedEntry)[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const raw of entries) {
    const e = prepare(raw);
    const name = Buffer.from(e.name, 'utf8');
    const size = e.declaredSize ?? e.size;
    const common = Buffer.concat([u16(20), u16(0x0800 /* UTF-8 names */), u16(e.method), u16(0), u16(0x21), u32(e.crc), u32(e.compressed.length), u32(size), u16(name.length), u16(0)]);
    const local = Buffer.concat([u32(0x04034b50), common, name, e.compressed]);
    centrals.push(Buffer.concat([u32(0x02014b50), u16(20), common, u16(0), u16(0), u16(0), u32(0), u32(offset), name]));
    locals.push(local);
    offset += local.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.concat([u32(0x06054b50), u16(0), u16(0), u16(entries.length), u16(entries.length), u32(directory.length), u32(offset), u16(0)]);
  return Buffer.concat([...locals, directory, end]);
}

/** `size` zero bytes, deflated as a stream (never held inflated); raw (zip) or with a zlib header (PDF). */
export async function deflatedZeros(size: number, format: 'raw' | 'zlib' = 'raw'): Promise<{ compressed: Buffer; crc: number; size: number }> {
  const chunk = Buffer.alloc(Math.min(size, 1024 * 1024));
  const deflate = (format === 'raw' ? createDeflateRaw : createDeflate)({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (b: Buffer) => out.push(b));
  const done = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  let crc = 0;
  for (let written = 0; written < size; written += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, size - written));
    crc = crc32(part, crc);
    if (!deflate.write(part)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  return { compressed: Buffer.concat(out), crc, size };
}

// ---------------------------------------------------------------- docx

const W_NS = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export type DocxBlock = { heading: string; level?: number } | { paragraph: string } | { table: string[][] };

const para = (text: string, style?: string) =>
  `<w:p>${style ? `<w:pPr><w:pStyle w:val="${style}"/></w:pPr>` : ''}<w:r><w:t xml:space="preserve">${xmlEscape(text)}</w:t></w:r></w:p>`;

function blockXml(b: DocxBlock): string {
  if ('heading' in b) return para(b.heading, `Heading${b.level ?? 1}`);
  if ('paragraph' in b) return para(b.paragraph);
  const rows = b.table.map((r) => `<w:tr>${r.map((c) => `<w:tc><w:tcPr><w:tcW w:w="2000" w:type="dxa"/></w:tcPr>${para(c)}</w:tc>`).join('')}</w:tr>`);
  return `<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr>${rows.join('')}</w:tbl>`;
}

const CONTENT_TYPES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>
</Types>`;
const ROOT_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>`;
const DOC_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>`;
const STYLES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="${W_NS}">
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/></w:style>
<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/></w:style>
</w:styles>`;

export function docxParts(blocks: DocxBlock[]): ZipEntryInput[] {
  const document = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="${W_NS}"><w:body>${blocks.map(blockXml).join('')}<w:sectPr/></w:body></w:document>`;
  return [
    { name: '[Content_Types].xml', data: CONTENT_TYPES },
    { name: '_rels/.rels', data: ROOT_RELS },
    { name: 'word/document.xml', data: document },
    { name: 'word/_rels/document.xml.rels', data: DOC_RELS },
    { name: 'word/styles.xml', data: STYLES },
  ];
}

export const buildDocx = (blocks: DocxBlock[]) => buildZip(docxParts(blocks));

/** A report with two headings, paragraphs and a 3x3 table. */
export const sampleDocx = () =>
  buildDocx([
    { heading: 'Quarterly Report' },
    { paragraph: 'Revenue grew in every region this quarter.' },
    { heading: 'Figures by region', level: 2 },
    { table: [['Region', 'Revenue', 'Growth'], ['North', '1200', '4%'], ['South', '950', '7%']] },
    { paragraph: 'Prepared by the finance team.' },
  ]);

/**
 * A DOCX whose styles.xml holds `size` bytes of zeros (default 200 MB), deflated about 1000:1.
 * With `lie`, the headers declare 1 KiB instead, so only the inflation check can catch it.
 */
export async function zipBombDocx(opts: { size?: number; lie?: boolean } = {}): Promise<Buffer> {
  const zeros = await deflatedZeros(opts.size ?? 200 * 1024 * 1024);
  const parts: (ZipEntryInput | PreDeflatedEntry)[] = docxParts([{ paragraph: 'nothing to see' }]).filter((p) => p.name !== 'word/styles.xml');
  parts.push({ name: 'word/styles.xml', compressed: zeros.compressed, crc: zeros.crc, size: zeros.size, ...(opts.lie ? { declaredSize: 1024 } : {}) });
  return buildZip(parts);
}

/** A zip that is not a Word document, e.g. to be uploaded as `report.pdf`. */
export const plainZip = () => buildZip([{ name: 'notes.txt', data: 'just a zip' }]);

// ---------------------------------------------------------------- pdf

const pdfString = (s: string) => `(${s.replace(/\\/g, '\\\\').replace(/\(/g, '\\(').replace(/\)/g, '\\)')})`;

/**
 * A PDF 1.4 with one page per entry of `pages`, each line drawn in Helvetica. Objects are written
 * in order and the xref table holds their real byte offsets.
 * `encrypt` adds a Standard security handler whose user password is not empty, so a reader must
 * ask for a password (the content itself is left as is: the reader stops before reading it).
 */
export function buildPdf(pages: string[][], opts: { encrypt?: boolean } = {}): Buffer {
  const objects: string[] = [];
  const add = (body: string) => objects.push(body); // the new length is the 1-based object number
  const catalog = add('');
  const pagesObj = add('');
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const kids: number[] = [];
  for (const lines of pages) {
    const ops = lines.map((line, i) => `BT /F1 18 Tf 72 ${720 - i * 28} Td ${pdfString(line)} Tj ET`).join('\n');
    const content = add(`<< /Length ${Buffer.byteLength(ops, 'latin1')} >>\nstream\n${ops}\nendstream`);
    kids.push(add(`<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${content} 0 R >>`));
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R >>`;
  objects[pagesObj - 1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  const encrypt = opts.encrypt
    ? add(`<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 /O <${'a1'.repeat(32)}> /U <${'b2'.repeat(32)}> >>`)
    : undefined;

  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xrefAt = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  out += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  const id = `<${'0123456789abcdef'.repeat(2)}>`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R${encrypt ? ` /Encrypt ${encrypt} 0 R /ID [${id} ${id}]` : ''} >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** A one-page PDF whose content stream is `data` as is, under the given stream dictionary entries. */
export function pdfWithContentStream(data: Buffer, dictEntries: string): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  const offsets: number[] = [];
  let length = parts[0]!.length;
  const add = (...chunks: Buffer[]) => {
    offsets.push(length);
    for (const c of chunks) (parts.push(c), (length += c.length));
  };
  const text = (t: string) => Buffer.from(t, 'latin1');
  add(text('1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n'));
  add(text('2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n'));
  add(text('3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>\nendobj\n'));
  add(text(`4 0 obj\n<< /Length ${data.length} ${dictEntries} >>\nstream\n`), data, text('\nendstream\nendobj\n'));
  const xref = `xref\n0 5\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  parts.push(text(`${xref}trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`));
  return Buffer.concat(parts);
}

/**
 * A PDF whose page content is `size` zero bytes (NUL is white space to a PDF reader), Flate
 * compressed about 1000:1: 512 MiB fit in about 500 KB. `nested`: compressed twice
 * (`/Filter [/FlateDecode /FlateDecode]`), so its first layer inflates to only that much.
 */
export async function flateBombPdf(size: number, opts: { nested?: boolean } = {}): Promise<Buffer> {
  const once = (await deflatedZeros(size, 'zlib')).compressed;
  if (!opts.nested) return pdfWithContentStream(once, '/Filter /FlateDecode');
  return pdfWithContentStream(deflateSync(once, { level: 9 }), '/Filter [/FlateDecode /FlateDecode]');
}

export const threePagePdf = () =>
  buildPdf([
    ['Alpha page one', 'The first page talks about apples.'],
    ['Beta page two', 'The second page talks about bananas.'],
    ['Gamma page three', 'The third page talks about cherries.'],
  ]);

export const encryptedPdf = () => buildPdf([['Top secret text']], { encrypt: true });

/** Starts like a PDF, then nothing a reader can recover. */
export const corruptPdf = () => Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(2048, 0x5a), Buffer.from('\n%%EOF\n')]);

// ---------------------------------------------------------------- csv and text

/** Quoted fields holding the delimiter, doubled quotes and a newline. */
export const quotedCsv = () =>
  Buffer.from(['name,comment,amount', '"Smith, John","He said ""hi""",10', '"Doe, Jane","line one', 'line two",20', 'Plain,simple,30'].join('\r\n') + '\r\n');

/** `rows` data rows under a header row. */
export function csvWithRows(rows: number): Buffer {
  const lines = ['id,label,value'];
  for (let i = 1; i <= rows; i++) lines.push(`${i},item ${i},${i * 3}`);
  return Buffer.from(lines.join('\n') + '\n');
}

export const emptyFile = () => Buffer.alloc(0);
export const latin1Text = () => Buffer.from('caf\xe9 cr\xe8me br\xfbl\xe9e\n', 'latin1');
