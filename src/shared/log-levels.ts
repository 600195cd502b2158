/** The levels every daemon's `--log-level` takes (pino's); anything else is refused when parsed, not at boot. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
