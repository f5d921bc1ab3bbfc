// @shipgate/bolt-app — public surface (see README.md)
export {};
