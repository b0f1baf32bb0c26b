/**
 * Text helpers shared by every layer. JavaScript strings are UTF-16: cutting one at an arbitrary
 * index can leave half of a surrogate pair (an emoji, most CJK extension characters), which
 * PostgreSQL's jsonb refuses and UTF-8 encoders turn into U+FFFD. Cut here instead.
 */

/** At most `max` UTF-16 units of `text`, never ending inside a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  // A high surrogate as the last kept unit would lose its low half: keep one unit fewer.
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

/** Whether PostgreSQL can store the string as text or inside jsonb: no NUL, no lone surrogate. */
export function isStorableText(text: string): boolean {
  return !text.includes('\0') && text.isWellFormed();
}
