/** Offset of the first byte that does not start a well-formed UTF-8 sequence (RFC 3629), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i] ?? 0;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const continuation = lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : 0;
    if (continuation === 0) return i;
    let codePoint = lead & (0x3f >> continuation);
    for (let k = 1; k <= continuation; k++) {
      const b = bytes[i + k];
      if (b === undefined || (b & 0xc0) !== 0x80) return i;
      codePoint = (codePoint << 6) | (b & 0x3f);
    }
    const smallest = continuation === 1 ? 0x80 : continuation === 2 ? 0x800 : 0x10000;
    if (codePoint < smallest || (codePoint >= 0xd800 && codePoint <= 0xdfff) || codePoint > 0x10ffff) return i;
    i += continuation + 1;
  }
  return -1;
}

/** A UTF-16 or UTF-32 byte-order mark at the start (FF FE or FE FF), as "FF FE", or null. */
export function utf16ByteOrderMark(bytes: Uint8Array): string | null {
  const [b0, b1] = bytes;
  return (b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff) ? `${b0.toString(16).toUpperCase()} ${b1.toString(16).toUpperCase()}` : null;
}
