const MASK = '••••';
/** Keys this short would give away half of themselves in 4 characters: show nothing of them. */
const MIN_LENGTH_TO_SHOW = 9;

/** The last 4 characters worth keeping beside the ciphertext for masked views, or null for a short secret. */
export function lastFourOf(secret: string): string | null {
  const chars = [...secret];
  return chars.length >= MIN_LENGTH_TO_SHOW ? chars.slice(-4).join('') : null;
}

export function maskFromLastFour(lastFour: string | null): string {
  return lastFour === null ? MASK : `${MASK}${lastFour}`;
}

/** `••••wxyz` for a secret longer than 8 characters, `••••` otherwise. */
export function maskSecret(secret: string): string {
  return maskFromLastFour(lastFourOf(secret));
}
