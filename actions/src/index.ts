// shared helpers of the actions bundles
export {};
