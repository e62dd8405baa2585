// TOTP codes (RFC 6238) as authenticator apps make them: HMAC-SHA1, 6 digits, 30-second steps,
// a 160-bit random secret shown in base32. A code is accepted one step early or late (clocks
// drift, people type slowly); which step it matched is returned so that the caller can refuse
// the same code, or an older one, a second time.
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';

export const TOTP_PERIOD_S = 30;
const DIGITS = 6;
const WINDOW = 1;
const ISSUER = 'Gatehouse';

function totp(secret: string, label = ''): TOTP {
  return new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: DIGITS, period: TOTP_PERIOD_S, secret: Secret.fromBase32(secret) });
}

/** A fresh secret, base32 (what a person types into an authenticator app by hand). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The otpauth:// URI an authenticator app reads (as a QR code, or pasted). */
export function totpUri(secret: string, username: string): string {
  return totp(secret, username).toString();
}

/**
 * The otpauth:// URI as a QR code in SVG, for a page to show inline (no image request, nothing
 * for a Content-Security-Policy to allow): what an authenticator app scans.
 */
export function totpQrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, width: 200 });
}

/** The same QR code drawn with block characters, for a terminal. */
export function totpQrText(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'terminal', small: true, errorCorrectionLevel: 'M' });
}

/** The time step of a moment. */
export function totpStep(now = Date.now()): number {
  return Math.floor(now / 1000 / TOTP_PERIOD_S);
}

/** Six digits, spaces allowed (apps show "123 456"); else undefined. */
export function normalizeCode(code: string): string | undefined {
  const digits = code.replace(/\s+/g, '');
  return /^\d{6}$/.test(digits) ? digits : undefined;
}

/** The time step `code` is the code of (this step, or one either side), or undefined. */
export function matchingStep(secret: string, code: string, now = Date.now()): number | undefined {
  const token = normalizeCode(code);
  if (token === undefined) return undefined;
  const delta = totp(secret).validate({ token, timestamp: now, window: WINDOW });
  return delta === null ? undefined : totpStep(now) + delta;
}

/** The code of a moment (for tests, and nothing else: the server never shows a code). */
export function totpCode(secret: string, now = Date.now()): string {
  return totp(secret).generate({ timestamp: now });
}
