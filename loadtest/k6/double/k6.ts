/** Test double of the k6 module: sleep(seconds) blocks, as k6's does within a VU. */
export function sleep(seconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}
