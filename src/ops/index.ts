/** Loads every op family into the registry. Import this module once for its side effect. */
import './conv.js';
import './dense.js';
import './activation.js';
import './loss.js';
