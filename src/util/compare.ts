/**
 * Orders strings by their UTF-16 code units, for machine keys: ids, topic segments, ISO dates, file
 * keys. Never `localeCompare` for those: its first call loads ICU's collation data, about 2 MB that
 * then stays resident for the life of the process (bench/README.md, "footprint.ts"), for an order
 * nobody reads. Names people read are still sorted with `localeCompare`.
 */
export function byCodeUnits(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
