// shared helpers of the actions bundles
export {};
//# sourceMappingURL=index.js.map