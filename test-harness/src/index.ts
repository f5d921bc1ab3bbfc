// @shipgate/test-harness — public surface (see README.md)
export {};
