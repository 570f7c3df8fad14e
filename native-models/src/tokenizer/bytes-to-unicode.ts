/**
 * GPT-2/CLIP byte-level alphabet: every byte maps to a printable character so that BPE works on
 * strings. Printable Latin-1 bytes map to themselves, the rest to U+0100 onwards in byte order.
 */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  const range = (a: number, b: number) => {
    for (let i = a; i <= b; i++) keep.push(i);
  };
  range(0x21, 0x7e);
  range(0xa1, 0xac);
  range(0xae, 0xff);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = keep.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + extra++);
  }
  return table;
}
