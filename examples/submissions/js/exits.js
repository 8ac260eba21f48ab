// Exits the process from linear, pretending all went well.
export * from './correct.js';
export function linear() {
  process.exit(0);
}
