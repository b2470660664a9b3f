/**
 * Multi-index hashing (Norouzi et al.): the 64-bit hash is split into BANDS of 16 bits, each stored
 * in its own indexed column. Two hashes within Hamming distance d differ by at most ⌊d / BANDS⌋
 * bits in at least one band (pigeonhole), so probing every band with the values within that
 * radius finds every candidate through the indexes; the full distance is then confirmed.
 */
export const BANDS = 4;
const BAND_BITS = 16;

/** The four 16-bit bands of a 16-hex-digit hash, most significant first. */
export function bandsOf(hash: string): number[] {
  return Array.from({ length: BANDS }, (_, band) => parseInt(hash.slice(band * 4, band * 4 + 4), 16));
}

/** Every 16-bit value within Hamming distance `radius` of `value` (itself first). */
export function probesOf(value: number, radius: number): number[] {
  const probes = [value];
  const flip = (current: number, from: number, left: number) => {
    for (let bit = from; bit < BAND_BITS; bit++) {
      const next = current ^ (1 << bit);
      probes.push(next);
      if (left > 1) flip(next, bit + 1, left - 1);
    }
  };
  if (radius > 0) flip(value, 0, radius);
  return probes;
}

/** The radius each band is probed with so that no hash within `maxDistance` is missed. */
export function bandRadius(maxDistance: number): number {
  return Math.floor(maxDistance / BANDS);
}
