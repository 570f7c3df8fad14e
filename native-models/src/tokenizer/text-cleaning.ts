/**
 * Text normalisation of transformers' CLIPTokenizer as the fixture's reference ran it (ftfy absent,
 * so its BasicTokenizer(strip_accents=False, do_split_on_punc=False) cleans the text):
 * drop NUL, U+FFFD and every "C*" category character (control, format such as ZWJ, unassigned,
 * private use), turn whitespace into spaces, space out CJK ideographs, NFC, lower-case per word.
 */

const CONTROL = /\p{C}/u;
const ZS = /\p{Zs}/u;

function isCjkIdeograph(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function cleanCharacters(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ZS.test(ch)) out += ' ';
    else if (cp === 0 || cp === 0xfffd || CONTROL.test(ch)) continue;
    else if (isCjkIdeograph(cp)) out += ` ${ch} `;
    else out += ch;
  }
  return out;
}

/** Python's str.split() without arguments: runs of Unicode whitespace separate words. */
const PY_WHITESPACE = /[\s\u001c-\u001f\u0085]+/u;

export function cleanText(text: string): string {
  return cleanCharacters(text)
    .normalize('NFC')
    .split(PY_WHITESPACE)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase())
    .join(' ');
}
