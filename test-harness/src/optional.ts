// Optional peer dependencies (testcontainers, mysql2) are imported only when asked for; when one is
// not installed, the error says which package to add.
import { ShipgateError } from '@shipgate/protocol';

export async function importOptional<T>(load: () => Promise<T>, code: string, what: string, pkg: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new ShipgateError(code, `${what} needs the ${pkg} package`, { hint: `npm install --save-dev ${pkg}` });
    }
    throw error;
  }
}
