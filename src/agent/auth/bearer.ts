/**
 * The bearer token of a request, as the apiserver's bearertoken authenticator reads it
 * (k8s.io/apiserver/pkg/authentication/request/bearertoken): `Authorization: Bearer <token>`, the
 * scheme case-insensitive. Pure. The token is hostile: bounded in length and held to the token68
 * alphabet (RFC 6750, section 2.1) before it goes anywhere, and never put in a message.
 */

/** Far above a service-account JWT (~1 KiB; a few KiB with many audiences) and below the 16 KiB header bound. */
export const MAX_TOKEN_BYTES = 8192;

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

export type BearerToken = { token: string } | { problem: string };

/** The token of an Authorization header (undefined: none was sent). */
export function bearerToken(header: string | undefined): BearerToken {
  if (header === undefined || header.trim() === '') return { problem: 'no bearer token: send Authorization: Bearer <token>' };
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer') return { problem: 'the Authorization header is not a bearer token' };
  const token = header.slice(space + 1).trim();
  if (token.length > MAX_TOKEN_BYTES) return { problem: `the bearer token is longer than ${MAX_TOKEN_BYTES} bytes` };
  if (!TOKEN68.test(token)) return { problem: 'the bearer token is empty or holds characters a token never has' };
  return { token };
}
