// The version of this shipgate, as `shipgate --version` prints it and exports pin the shipgate
// actions to (`v<version>`, the release tag). A test keeps it equal to package.json's.
export const shipgateVersion = '0.1.0';
