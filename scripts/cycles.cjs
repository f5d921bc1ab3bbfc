// Only the cycle rule, for scripts/architecture-metrics.mjs (which counts, rather than fails).
module.exports = { forbidden: [{ name: 'no-circular', severity: 'error', from: {}, to: { circular: true } }] };
