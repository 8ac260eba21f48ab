/** Every exercise kind, by name (the `kind` of an exercise in exercises/bank.json). */
import { BY_HAND_KINDS } from './by-hand.js';
import type { Kind } from './common.js';
import { DETECTION_KINDS } from './detection.js';
import { SHAPE_KINDS } from './shapes.js';

export * from './common.js';
export { modelOf } from './shapes.js';

export const KINDS: Record<string, Kind> = Object.fromEntries([...SHAPE_KINDS, ...BY_HAND_KINDS, ...DETECTION_KINDS].map((k) => [k.name, k]));
