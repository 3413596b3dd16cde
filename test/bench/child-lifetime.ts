/**
 * How the benchmark's child processes (upstream, floor proxy) end: on SIGTERM or SIGINT, or when
 * their stdin closes, which is how they learn that the benchmark died (even by SIGKILL). `stop`
 * runs once, whichever comes first.
 */
export function stopWhenToldOrOrphaned(stop: () => void): void {
  let stopping = false;
  const once = (): void => {
    if (stopping) return;
    stopping = true;
    stop();
  };
  process.once('SIGTERM', once);
  process.once('SIGINT', once);
  process.stdin.on('end', once);
  process.stdin.on('error', once);
  process.stdin.resume();
}
