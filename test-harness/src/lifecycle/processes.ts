// Whether the process that owns something (a cluster, a clone, a container, a lock) still runs:
// every reaper decides from this.

/** Whether a process still exists. EPERM means it exists under another user. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
