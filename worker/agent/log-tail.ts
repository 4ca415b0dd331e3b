/**
 * The last bytes of the harness's output, for `failed.logTail` (at most 8 KiB on the
 * wire). Keeps at most twice the limit in memory and trims from the front, so a chatty
 * harness costs O(limit) memory however long it runs.
 */
export class LogTail {
  readonly #limitBytes: number;
  #chunks: Buffer[] = [];
  #size = 0;

  constructor(limitBytes = 8192) {
    this.#limitBytes = limitBytes;
  }

  append(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#size > 2 * this.#limitBytes) {
      const joined = Buffer.concat(this.#chunks).subarray(-this.#limitBytes);
      this.#chunks = [joined];
      this.#size = joined.length;
    }
  }

  /** The tail as text of at most `limitBytes` UTF-8 bytes, cut at a character boundary. */
  text(): string {
    let tail = Buffer.concat(this.#chunks).subarray(-this.#limitBytes);
    // Skip UTF-8 continuation bytes so the cut never splits a character.
    let start = 0;
    while (start < tail.length && ((tail[start] ?? 0) & 0xc0) === 0x80) start += 1;
    tail = tail.subarray(start);
    return tail.toString("utf8");
  }
}
