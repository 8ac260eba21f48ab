/** Loads every op family into the registry. Import this module once for its side effect. */
import './conv.js';
import './transposed.js';
import './pooling.js';
import './resample.js';
import './normalization.js';
import './dense.js';
import './activation.js';
import './loss.js';
import './detection.js';
import './accelerated.js';
import './simd.js';
