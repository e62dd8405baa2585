// Personal data in result text: e-mail addresses and payment card numbers. Deliberately few and
// precise: a detector on every result that flags ordinary text is one operators turn off. Names,
// postal addresses and phone numbers are not detected (no pattern tells them from other text
// reliably; see docs/guardrails.md for why no PII library is used).
import type { Finding } from './findings.ts';

// The local part and each label bounded, so a long run without "@" costs one linear scan.
const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])/g;
// Issuer prefixes of Visa, Mastercard, American Express, Discover, JCB and Diners (so that ids,
// timestamps and amounts are left alone), 13 to 19 digits, grouped by spaces or dashes or not.
const CARD = /(?<![\d.-])(?:4|5[1-5]|2[2-7]|3[47]|3[068]|6(?:011|5)|35)(?:[ -]?\d){11,17}(?![\d-])/g;

export function findPersonalData(text: string): Finding[] {
  const found: Finding[] = [];
  if (text.includes('@')) for (const match of text.matchAll(EMAIL)) found.push({ detector: 'email', class: 'personalData', start: match.index, end: match.index + match[0].length });
  for (const match of text.matchAll(CARD)) {
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && luhn(digits)) found.push({ detector: 'payment-card', class: 'personalData', start: match.index, end: match.index + match[0].length });
  }
  return found;
}

/** The Luhn checksum every payment card number satisfies (one random number in ten does). */
function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}
