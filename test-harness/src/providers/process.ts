// Whether a process still exists (the owner of a cluster, a clone or a container). EPERM means it
// exists under another user.
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
