/**
 * Text from outside the process (a file's bytes, a parser's message that quotes them) made safe for
 * a one-line error: cut to a bound, and every character a terminal would act on written as an escape
 * instead (C0 and C1 controls — ESC and CSI start terminal sequences —, DEL, line and paragraph
 * separators, bidirectional overrides), so a hostile file can neither break the line nor rewrite
 * what the operator sees.
 */

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

function escape(ch: string): string {
  switch (ch) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}

/** `text` as at most `max` characters (then "…") with unsafe characters escaped. */
export function printable(text: string, max = 200): string {
  // Never cut between the two halves of a surrogate pair.
  const end = max > 0 && text.length > max && /[\ud800-\udbff]/.test(text.charAt(max - 1)) ? max - 1 : max;
  const cut = text.length > max ? `${text.slice(0, end)}…` : text;
  return cut.replace(UNSAFE, escape);
}

/** The first line of a message (parsers append source excerpts on further lines), printable. */
export function firstLinePrintable(text: string, max = 200): string {
  const nl = text.indexOf('\n');
  return printable(nl < 0 ? text : text.slice(0, nl), max);
}
