/**
 * Reads a duration such as `90s`, `45m`, `1h30m` or `2h` (for --max-runtime) into milliseconds.
 * Returns undefined for anything else, so that the caller can name the flag in its message.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (!match || text.trim() === '') return undefined;
  const [, hours = '0', minutes = '0', seconds = '0'] = match;
  const ms = ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000;
  return ms > 0 ? ms : undefined;
}
